"""Run a client library's own live-TWS test suite against mock gateways (opt-in, not collected).

ib_insync's and ib_async's ``tests/`` connect to a logged-in TWS: ``IB.connectAsync()`` defaults
(127.0.0.1:7497, clientId 1) and, in ib_async's test_contract.py, 127.0.0.1:4001. This starts one
mock gateway on each of those ports (the ports must be free) and runs the suite with a per-test
timeout, so a test that waits forever is reported, not hung. Their code is not part of prelive:
check it out elsewhere, with an interpreter that has the library, pytest-timeout and the pytest
and pytest-asyncio of the suite's era (pytest 7.4 with pytest-asyncio 0.21: with 0.23 their session
``event_loop`` fixture closes the loop before the ``ib`` fixture's teardown, an error of the suite).

Measured (ib_insync 0.9.86, ib_async 2.1.0): ib_insync tests/ 2 of 2 pass; ib_async tests/ 2 of 3
(test_contract.py, test_account_summary) pass, test_request_error_raised times out because ib_async
2.x files error 321 under warnings and never ends the what-if request (it would wait on a real
gateway too: the 321 is IB's answer).

    python tests/peers/run_peer_suites.py /path/to/ib_async/tests --python /path/to/venv/bin/python
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from mock_gateway.server import GatewayThread

#: The ports the suites dial: TWS paper (connectAsync's default) and IB Gateway live (ib_async's test_contract.py).
SUITE_PORTS = (7497, 4001)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="+", help="test files or folders of the suite")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the library and its pytest")
    parser.add_argument("--timeout-s", type=float, default=30.0, help="per-test timeout (pytest-timeout)")
    args = parser.parse_args(argv)
    threads = []
    try:
        for port in SUITE_PORTS:
            thread = GatewayThread(port=port)
            thread.start()
            threads.append(thread)
        # each file in its own pytest process: the suites' session event loops do not mix sync and async clients
        # asyncio_mode=auto: the suites' async fixtures are plain async generators (their setup.cfg says so)
        codes = [subprocess.run([args.python, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-o", "asyncio_mode=auto",
                                 f"--timeout={args.timeout_s:g}", path]).returncode for path in args.tests]
    finally:
        for thread in threads:
            thread.stop()
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
