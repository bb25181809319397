"""pytest plugin (entry point ``prelive``): fixtures that start the mock gateway in-process."""
