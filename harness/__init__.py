"""prelive harness: scenarios, runner, metrics, artifacts, gates, containers and drills."""
__version__ = "0.1.0"
