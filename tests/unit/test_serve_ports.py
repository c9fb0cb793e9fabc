"""How `serve` holds its port (cli/supervisor.py, issue 12): the supervisor reserves it, each
API process listens on it with a socket of its own, the kernel spreads new connections over
those sockets, and a busy port (another `serve`'s included) is refused at once. Real sockets on
127.0.0.1; the whole `serve` is tests/operations/test_serve_processes.py."""

from __future__ import annotations

import select
import socket
from collections import Counter
from contextlib import ExitStack

import pytest

from fastfaktura.cli.supervisor import api_socket, reserve_port

HOST = "127.0.0.1"


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def accepted_by(listeners: list[socket.socket], connections: int, port: int) -> Counter[int]:
    """Which listener (its index) accepted each of `connections` new connections."""
    counts: Counter[int] = Counter()
    for _ in range(connections):
        with socket.create_connection((HOST, port), timeout=5):
            ready, _, _ = select.select(listeners, [], [], 5)
            assert len(ready) == 1, ready
            accepted, _ = ready[0].accept()
            accepted.close()
            counts[listeners.index(ready[0])] += 1
    return counts


def test_the_api_processes_sockets_share_the_port_and_the_connections() -> None:
    with ExitStack() as stack:
        port = port_of(stack.enter_context(reserve_port(HOST, 0)))
        listeners = [stack.enter_context(api_socket(HOST, port)) for _ in range(2)]
        counts = accepted_by(listeners, 64, port)
    # By a hash of each connection's addresses: both get some (all 64 on one: odds 2**-63).
    assert set(counts) == {0, 1}, counts


def test_a_busy_port_is_refused_another_serves_too() -> None:
    with socket.socket() as stranger:
        stranger.bind((HOST, 0))
        stranger.listen()
        with pytest.raises(OSError, match="in use"):
            reserve_port(HOST, port_of(stranger))
    with (
        reserve_port(HOST, 0) as held,
        api_socket(HOST, port_of(held)),
        pytest.raises(OSError, match="in use"),
    ):
        reserve_port(HOST, port_of(held))  # a second `serve` on the same port


def test_the_reserved_port_outlives_its_api_processes() -> None:
    with reserve_port(HOST, 0) as held:
        port = port_of(held)
        api_socket(HOST, port).close()  # every API process gone (a crash)
        with socket.socket() as stranger, pytest.raises(OSError, match="in use"):
            stranger.bind((HOST, port))
        with pytest.raises(ConnectionRefusedError):  # the reservation takes no connection
            socket.create_connection((HOST, port), timeout=5).close()
        with api_socket(HOST, port) as restarted:
            assert accepted_by([restarted], 1, port) == Counter({0: 1})
