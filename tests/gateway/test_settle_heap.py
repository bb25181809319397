"""A standalone gateway process takes its built world out of the collector's view (no ~60 ms full-GC stalls)."""
import subprocess
import sys


def test_settle_heap_freezes_what_the_started_gateway_built() -> None:
    code = (
        "import asyncio, gc\n"
        "from mock_gateway.config import GatewayConfig\n"
        "from mock_gateway.server import Gateway, settle_heap\n"
        "async def main():\n"
        "    gw = Gateway(GatewayConfig(port=0))\n"
        "    await gw.start()\n"
        "    before = gc.get_freeze_count()\n"
        "    settle_heap()\n"
        "    print(before, gc.get_freeze_count(), len(gc.get_objects()))\n"
        "    await gw.stop()\n"
        "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    before, frozen, tracked = (int(x) for x in out.stdout.split())
    assert before == 0
    assert frozen > 20_000          # the world and its tables are frozen (~44k objects with the table cache warm)
    assert tracked < frozen // 10   # and the collector's generations are left nearly empty
