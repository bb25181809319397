"""A real client library's session against the mock, for tests run with ib_insync and ib_async alike."""
from __future__ import annotations

import importlib
from contextlib import contextmanager

LIBS = ["ib_insync", "ib_async"]


@contextmanager
def connected(lib: str, gw, client_id: int = 1):
    api = importlib.import_module(lib)
    ib = api.IB()
    ib.connect(gw.host, gw.port, clientId=client_id, timeout=5)
    try:
        yield api, ib
    finally:
        ib.disconnect()


def errors_of(ib) -> list[tuple[int, int, str]]:
    seen: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, *rest: seen.append((req_id, code, text))
    return seen


def aapl(api, ib):
    contract = api.Stock("AAPL", "SMART", "USD")
    ib.qualifyContracts(contract)
    return contract
