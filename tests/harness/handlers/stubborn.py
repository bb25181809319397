"""Test handler: ignores SIGTERM, so the harness has to SIGKILL it after the grace period."""
import signal
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("stubborn: ignoring SIGTERM", flush=True)
while True:
    time.sleep(1)
