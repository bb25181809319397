"""Test handler: prints its clocks at start and after sleeping (time.sleep, asyncio.sleep, select), then idles.

Lines: ``clock start <time.time()> <time.monotonic()>`` and ``clock slept <what> <sim seconds by its clock>``.
"""
import asyncio
import select
import sys
import time

print(f"clock start {time.time():.6f} {time.monotonic():.6f}", flush=True)
for what, sleep in (("time.sleep", lambda: time.sleep(20)),
                    ("asyncio.sleep", lambda: asyncio.run(asyncio.sleep(20))),
                    ("select", lambda: select.select([], [], [], 20))):
    t0 = time.monotonic()
    sleep()
    print(f"clock slept {what} {time.monotonic() - t0:.3f}", flush=True)
print(f"clock end {time.time():.6f}", flush=True)
sys.stdout.flush()
while True:
    time.sleep(5)
