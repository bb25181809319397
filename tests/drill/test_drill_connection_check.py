"""Step 5 proves the previous release holds its own API connection by reading its socket table from the
Docker host (/proc/<pid>/net/tcp[6]), and only for a pid that provably is the container's."""
from __future__ import annotations

import os
import socket

from harness.drill.ib_state import _connected_in_proc


def _cgroup_word() -> str:
    """Some text of this process's own cgroup file (stands for "the container's id is in it")."""
    return open(f"/proc/{os.getpid()}/cgroup").read().split(":", 1)[0]


def test_an_established_connection_to_the_port_is_seen_from_the_host():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        peer, _ = server.accept()
        try:
            assert _connected_in_proc(os.getpid(), _cgroup_word(), port) is True
        finally:
            client.close()
            peer.close()


def test_a_listening_socket_alone_is_not_a_connection():
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert _connected_in_proc(os.getpid(), _cgroup_word(), server.getsockname()[1]) is False


def test_a_pid_that_is_not_the_containers_is_not_read():
    """A remote engine's pid, or a reused one: unknown, so the caller falls back to a Docker exec."""
    assert _connected_in_proc(os.getpid(), "0123456789abcdef-not-this-process", 4004) is None
    assert _connected_in_proc(2**22 + 12345, "anything", 4004) is None
