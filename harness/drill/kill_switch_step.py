"""The kill switch as the playbooks run it: ``harness.killswitch`` without the CLI's start-up.

``prelive kill-switch`` first loads every command module (typer, rich, the gate engine with
pandas): ~0.6 s on an idle machine and more under load, all of it inside the timed recovery.
This entry point calls the same function with the same options and exit codes (0 verified,
1 not verified, 2 refused) and prints the same one-line summary.

    python -m harness.drill.kill_switch_step --host H --port P --client-id N --account DU.. --out FILE
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.killswitch import DEFAULT_CLIENT_ID, kill_switch
from harness.safety import OVERRIDE_FLAG, LiveAccountRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.drill.kill_switch_step", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4002)
    parser.add_argument("--client-id", type=int, default=DEFAULT_CLIENT_ID)
    parser.add_argument("--account", default=None)
    parser.add_argument("--kill-file", type=Path, default=None, help="the handler's kill file, created first")
    parser.add_argument("--flatten", action="store_true")
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path("KILL_SWITCH.json"))
    parser.add_argument(OVERRIDE_FLAG, dest="allow_live", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = kill_switch(args.host, args.port, args.out, client_id=args.client_id, account=args.account or None,
                             kill_file=args.kill_file, flatten=args.flatten, timeout_s=args.timeout, allow_live=args.allow_live)
    except LiveAccountRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"kill switch {'verified' if result.verified else 'NOT verified'}: open orders "
          f"{result.open_orders_before} -> {result.open_orders_after}, cancelled {result.cancelled}"
          + (f", flattened {result.flattened}" if args.flatten else "") + (f" ({result.error})" if result.error else ""))
    print(f"wrote {args.out}")
    if not result.verified:
        print(f"the kill switch could not verify zero open orders{': ' + result.error if result.error else ''}",
              file=sys.stderr)
    return 0 if result.verified and (result.flattened or not args.flatten) else 1


if __name__ == "__main__":
    sys.exit(main())
