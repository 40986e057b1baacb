"""kill -9 at random moments during an ingest: the store ends identical to one uninterrupted run."""

from __future__ import annotations

import random
import signal
import subprocess
from pathlib import Path

import pytest

from tests.fakes.chain_gen import generate_chain
from tests.fakes.hive import FakeHiveNode
from tests.helpers import cursor_of, dump_chain_tables, hivecord, popen_hivecord, wait_until, write_config

START = 70_000_000
COUNT = 5_000
KILLS = 20


@pytest.fixture(scope="module")
def chain_node() -> FakeHiveNode:
    chain = generate_chain(START, COUNT, review_every=10, seed=7)
    node = FakeHiveNode(chain.blocks, head=START + COUNT, vops=chain.vops)
    node.start_in_thread()
    yield node
    node.stop_thread()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_repeats_nothing(chain_node: FakeHiveNode, tmp_path: Path) -> None:
    last = START + COUNT - 1
    url = chain_node.url
    # Small batches, so the kills land between, before and inside many transactions.
    ref_dir, crash_dir = tmp_path / "ref", tmp_path / "crash"
    ref_dir.mkdir()
    crash_dir.mkdir()
    ref_config = write_config(ref_dir, [url], batch_size=100)
    crash_config = write_config(crash_dir, [url], batch_size=100)
    args = ("ingest", "--from-block", str(START), "--to-block", str(last))

    result = hivecord(*args, "--config", str(ref_config))
    assert result.returncode == 0, result.stderr
    reference = dump_chain_tables(ref_dir / "hivecord.sqlite3")
    assert len(reference["posts"]) > 100 and len(reference["votes"]) > 100 and reference["badges"]

    rng = random.Random(2026)
    db = crash_dir / "hivecord.sqlite3"
    kills, cursors = 0, []
    while kills < KILLS:
        before = (cursor_of(db) if db.exists() else None) or START - 1
        proc = popen_hivecord(*args, "--config", str(crash_config))
        # Each life is killed at a random point of its progress: some during start-up, most after a
        # random number of blocks, a random number of node requests into the next batch.
        target = before + rng.randint(0, COUNT // (KILLS + 5))

        def kill_point(proc: subprocess.Popen[str] = proc, target: int = target) -> bool:
            return proc.poll() is not None or ((cursor_of(db) if db.exists() else None) or START - 1) >= target

        try:
            # A generous ceiling, not a kill trigger: a life that never gets there fails the test.
            wait_until(kill_point, timeout=120)
            assert proc.poll() is None, f"ingest exited before block {target}: {proc.communicate()[1]}"
            # Into the next batch: after 0-2 more node requests (ranges and vote details) are served.
            served = chain_node.requests + rng.randint(0, 2)

            def in_next_batch(proc: subprocess.Popen[str] = proc, served: int = served) -> bool:
                return chain_node.requests >= served or proc.poll() is not None or cursor_of(db) == last

            wait_until(in_next_batch, timeout=120)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.communicate(timeout=30)
        cursors.append(cursor_of(db) if db.exists() else None)
    # The kills must have caught the ingest part-way, not only before it started or after it ended.
    midway = [c for c in cursors if c is not None and START <= c < last]
    assert len(set(midway)) >= 10, cursors

    result = hivecord(*args, "--config", str(crash_config))
    assert result.returncode == 0, result.stderr
    assert cursor_of(db) == last
    assert dump_chain_tables(db) == reference
