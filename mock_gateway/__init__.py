"""A mock IB Gateway speaking the real TWS API socket protocol, with a SimPy world behind it."""
__version__ = "0.1.0"
