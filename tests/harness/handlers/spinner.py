"""Test handler: four processes that never stop computing (busy whatever else the machine runs)."""
import os

os.fork()
os.fork()
while True:
    pass
