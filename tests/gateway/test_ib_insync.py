"""ib_insync 0.9.86 against the mock gateway: a whole trading session over a real socket (version 176)."""
from .ib_behaviour import IbClientBehaviour


class TestIbInsync(IbClientBehaviour):
    lib = "ib_insync"
    expected_server_version = 176
