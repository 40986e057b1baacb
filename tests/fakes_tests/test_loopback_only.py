"""The tests' own guard: nothing outside 127.0.0.1, in the test run and in the processes it starts."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.helpers import cli_env

# TEST-NET-1 (RFC 5737): never routed, so without the guard this would hang or fail slowly.
OUTSIDE = ("192.0.2.1", 80)


def test_the_test_run_cannot_connect_outside() -> None:
    with pytest.raises(ConnectionRefusedError, match=r"only connect to 127\.0\.0\.1"):
        socket.create_connection(OUTSIDE, timeout=30)


def test_loopback_still_connects() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()[:2], 30):
        pass


def test_child_processes_cannot_connect_outside() -> None:
    code = f"import socket; socket.create_connection({OUTSIDE!r}, timeout=30)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=cli_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0 and "only connect to 127.0.0.1" in result.stderr, result.stderr
