"""pytest plugin (entry point ``prelive``): fixtures that start the mock gateway in-process.

``mock_gateway``: a running gateway (default config, ephemeral port) for one test.
``mock_gateway_factory(scenario=None, symbols=None, seed=None, **config_overrides)``: start as
many as a test needs, from a scenario (a file or a shipped name: its market, accounts and faults)
or from the defaults; all stop at teardown. ``module_mock_gateway_factory`` and
``session_mock_gateway_factory`` are the same, stopped at the end of the module or the session.
Each gives a :class:`mock_gateway.server.Gateway` (``host``, ``port``, ``event_log``, ``clock``,
``world``, ``call``, ``faults``) running on its own thread, so blocking clients (ib_insync's sync API, ibapi)
can be used directly in the test. ``gw.faults`` changes the faults while it runs, from the test's
thread (Toxiproxy's toxics): ``add(type, name=None, **params)``, ``remove(name)``, ``clear()``,
``list()`` (:mod:`mock_gateway.faults.runtime`).

Scenario files as test items and the ``run_scenario`` fixture live in ``harness.pytest_scenarios``
(entry point ``prelive_scenarios``).
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from .config import GatewayConfig
from .faults.base import Fault, FaultStack
from .faults.defaults import build_fault_stack
from .faults.spec import fault_from_spec
from .server import Gateway, GatewayThread

GatewayFactory = Callable[..., Gateway]


def gateway_config_for(scenario: str | os.PathLike[str] | Any | None = None, *, symbols: Sequence[str] | None = None,
                       seed: int | None = None, **config_overrides: Any) -> GatewayConfig:
    """The config a factory starts: the scenario's gateway (with its faults) or the defaults, then
    ``symbols``, ``seed`` and any :class:`GatewayConfig` field (``speed=``, ``port=``...).
    ``faults=[...]`` (a list of faults in the scenario-file form, or built ones) adds them to the
    scenario's or the default faults; a :class:`FaultStack` replaces them."""
    config_overrides.setdefault("port", 0)
    extra = config_overrides.get("faults")
    if isinstance(extra, (list, tuple)):   # faults in the scenario-file form (or built): added to the stack
        del config_overrides["faults"]
        config = gateway_config_for(scenario, symbols=symbols, seed=seed, **config_overrides)
        faults = [f if isinstance(f, Fault) else fault_from_spec(f) for f in extra]
        if config.faults is None:   # no scenario: as in a scenario file, a fault replaces its type's default
            config.faults = build_fault_stack(config, faults)
            return config
        base = config.faults.faults
        taken = {f.name for f in base}
        clash = [f.name for f in faults if f.name in taken]
        if clash:
            raise ValueError(f"the scenario already has a fault named {clash[0]!r}; name the added one otherwise")
        config.faults = FaultStack([*base, *build_fault_stack(config, faults, default_pacing=False).faults])
        return config
    if scenario is None:
        config = GatewayConfig(**config_overrides)
        if seed is not None:
            config.seed = seed
        if symbols is not None:
            config.market = dataclasses.replace(config.market, symbols=list(symbols))
        return config
    from harness.scenario import load_scenario   # scenarios are the harness's model; loaded only when asked

    loaded = scenario if hasattr(scenario, "gateway_config") else load_scenario(scenario)
    if seed is not None:
        loaded = loaded.model_copy(update={"seed": int(seed)})
    if symbols is not None:
        loaded = loaded.model_copy(update={"market": loaded.market.model_copy(update={"symbols": list(symbols)})})
    port = config_overrides.pop("port")
    return loaded.gateway_config(port=port, **config_overrides)


def _factory() -> Iterator[GatewayFactory]:
    threads: list[GatewayThread] = []

    def start(scenario: Any = None, *, symbols: Sequence[str] | None = None, seed: int | None = None,
              **config_overrides: Any) -> Gateway:
        thread = GatewayThread(gateway_config_for(scenario, symbols=symbols, seed=seed, **config_overrides))
        gateway = thread.start()
        threads.append(thread)
        return gateway

    try:
        yield start
    finally:
        for thread in reversed(threads):
            thread.stop()


@pytest.fixture
def mock_gateway_factory() -> Iterator[GatewayFactory]:
    """Start gateways (``scenario=``, ``symbols=``, ``seed=``, GatewayConfig fields); stopped after the test."""
    yield from _factory()


@pytest.fixture(scope="module")
def module_mock_gateway_factory() -> Iterator[GatewayFactory]:
    """:func:`mock_gateway_factory` whose gateways live until the end of the test module."""
    yield from _factory()


@pytest.fixture(scope="session")
def session_mock_gateway_factory() -> Iterator[GatewayFactory]:
    """:func:`mock_gateway_factory` whose gateways live until the end of the test session."""
    yield from _factory()


@pytest.fixture
def mock_gateway(mock_gateway_factory: GatewayFactory) -> Gateway:
    """A running mock gateway with the default config on an ephemeral port."""
    return mock_gateway_factory()
