"""``prelive diff``: replay a recorded session's requests against the mock and compare the answers."""
