"""Node URLs may carry a login or an API key: the client's log lines and errors show scheme and host only."""

from __future__ import annotations

import logging
import socket

import pytest

from bot.hive.client import HiveClient, HiveUnavailable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_failing_node_is_logged_without_its_login_path_or_key(caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    url = f"http://operator:s3cret@127.0.0.1:{port}/rpc/v1?key=abc123"
    caplog.set_level(logging.DEBUG)
    async with HiveClient([url], timeout=5) as hive:
        with pytest.raises(HiveUnavailable) as raised:
            await hive.call("condenser_api.get_config", [], deadline=1.0)
    shown = caplog.text + str(raised.value)
    assert f"http://127.0.0.1:{port}" in shown
    for secret in ("operator", "s3cret", "/rpc/v1", "abc123"):
        assert secret not in shown
