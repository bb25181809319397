"""Packaging beyond pyproject.toml: the shipped scenarios go into the wheel as package data.

The repository keeps ``scenarios/`` at its root for developers; the wheel carries the same
folder as ``harness/shipped_scenarios/`` (``harness.scenario.SCENARIOS_DIR`` looks there
first), so ``prelive scenarios`` and ``prelive run baseline`` work from a plain install.
"""
from setuptools import find_namespace_packages, find_packages, setup

SHIPPED = "harness.shipped_scenarios"

setup(
    packages=find_packages(include=["mock_gateway*", "harness*"])
    + [SHIPPED] + [f"{SHIPPED}.{sub}" for sub in find_namespace_packages("scenarios")],
    package_dir={SHIPPED: "scenarios"},
)
