"""Flaky, lagging and dead nodes: the follower fails over and ends with the same store."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.fakes.chain_gen import generate_chain
from tests.fakes.hive import FakeHiveNode
from tests.helpers import LineReader, dump_chain_tables, hivecord, popen_hivecord, wait_until, write_config

START = 80_000_000
COUNT = 1_500


@pytest.fixture(scope="module")
def chain():  # type: ignore[no-untyped-def]
    return generate_chain(START, COUNT, review_every=10, seed=11)


def test_flaky_and_lagging_nodes_give_the_same_store(chain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    last = START + COUNT - 1
    head = START + COUNT
    args = ("ingest", "--from-block", str(START), "--to-block", str(last))

    healthy = FakeHiveNode(chain.blocks, head=head, vops=chain.vops)
    flaky = FakeHiveNode(chain.blocks, head=head, vops=chain.vops, fault_rate=0.3, hang_seconds=3.0, seed=3)
    behind = FakeHiveNode(chain.blocks, head=head, vops=chain.vops, behind=50)
    urls = [n.start_in_thread() for n in (healthy, flaky, behind)]
    try:
        ref_dir, test_dir = tmp_path / "ref", tmp_path / "faulty"
        ref_dir.mkdir()
        test_dir.mkdir()
        result = hivecord(*args, "--config", str(write_config(ref_dir, [urls[0]], batch_size=200)))
        assert result.returncode == 0, result.stderr

        # The flaky node first, so it takes most requests; the lagging one must be noticed and left.
        config = write_config(test_dir, [urls[1], urls[2]], batch_size=100, request_timeout=1.0, max_head_lag=20)
        result = hivecord(*args, "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert dump_chain_tables(test_dir / "hivecord.sqlite3") == dump_chain_tables(ref_dir / "hivecord.sqlite3")
        faults = flaky.faults
        assert sum(faults.values()) >= 3, faults
        log = result.stderr
        assert urls[1] in log and "failed" in log
        assert "behind" in log or "lags" in log
    finally:
        for node in (healthy, flaky, behind):
            node.stop_thread()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_node_down_keeps_retrying_with_clear_lines(tmp_path: Path) -> None:
    urls = [f"http://127.0.0.1:{_closed_port()}", f"http://127.0.0.1:{_closed_port()}"]
    config = write_config(tmp_path, urls, request_timeout=0.5)
    proc = popen_hivecord("ingest", "--config", str(config), "--from-block", "100")
    stderr_lines = LineReader(proc.stderr)  # type: ignore[arg-type]
    try:
        # Two rounds of "every node failing" prove it keeps retrying; a generous ceiling, not a timer.
        wait_until(lambda: stderr_lines.count("every Hive node is failing") >= 2 or proc.poll() is not None, 60)
        assert proc.poll() is None, "the follower must not exit while the nodes are down"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = stderr_lines.text()
    assert "every Hive node is failing" in stderr
    for url in urls:
        assert url in stderr
    assert "Traceback" not in stderr
