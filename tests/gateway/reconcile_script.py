"""A plain ib_insync handler: at every (re)connect it prints what the account holds, as a bot's start-up
reconciliation would read it. Run by the harness (IB_HOST, IB_PORT, IB_CLIENT_ID); stops on SIGTERM."""
import asyncio
import json
import os
import signal

from ib_insync import IB


def snapshot(ib: IB) -> dict:
    return {"event": "reconcile",
            "positions": {p.contract.symbol: [p.position, round(p.avgCost, 4)] for p in ib.positions()},
            "open_orders": [[t.contract.symbol, t.order.action, t.order.totalQuantity, t.order.orderType,
                             t.order.lmtPrice, t.order.tif, t.order.orderRef, t.orderStatus.status]
                            for t in ib.openTrades()],
            "fills": [[f.contract.symbol, f.execution.side, f.execution.shares] for f in ib.fills()],
            "cash": {v.currency: v.value for v in ib.accountValues() if v.tag == "CashBalance"}}


async def main() -> None:
    host, port, client_id = os.environ["IB_HOST"], int(os.environ["IB_PORT"]), int(os.environ["IB_CLIENT_ID"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    ib = IB()
    while not stop.is_set():
        if not ib.isConnected():
            try:
                await ib.connectAsync(host, port, clientId=client_id, timeout=3)
                print(json.dumps(snapshot(ib)), flush=True)
            except (OSError, asyncio.TimeoutError):
                ib.disconnect()
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except asyncio.TimeoutError:
            pass
    ib.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
