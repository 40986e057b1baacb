"""Tests reach nothing outside 127.0.0.1: a connect to any other address fails at once.

Loaded by the test run itself (tests/conftest.py) and, as `sitecustomize`, by every child process the
tests start through tests.helpers.cli_env (this folder is put first on their PYTHONPATH). A test that
would quietly use the network on a developer's machine fails the same way on an offline one.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_ALLOWED_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False
    if host.lower() in _ALLOWED_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name: resolving it would already be a lookup outside


def install() -> None:
    if getattr(socket.socket, "_loopback_only", False):
        return
    plain_connect, plain_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        _check(self, address)
        plain_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(self, address)
        return plain_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket._loopback_only = True  # type: ignore[attr-defined]


install()
