"""CLI command modules, one per product area."""
