"""The command line: check-config names every mistake; progress reads well on a terminal and in logs."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.ingest.follower import Progress
from bot.process.progress import ProgressReporter
from tests.helpers import cli_env, hivecord

THREE_MISTAKES = """
[hive]
nodes = ["https://api.hive.blog", "ftp://api.deathwing.me"]
communities = ["hive-158489", "hive-12"]
batch_sze = 500
"""


def test_check_config_names_all_three_mistakes(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(THREE_MISTAKES)
    result = hivecord("check-config", "--config", str(config))
    assert result.returncode != 0
    assert "hive.nodes[1]" in result.stderr and "ftp://api.deathwing.me" in result.stderr
    assert "hive.communities[1]" in result.stderr and "hive-12" in result.stderr
    assert "hive.batch_sze" in result.stderr and "batch_size" in result.stderr
    assert "3 problem(s)" in result.stderr


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    result = hivecord("check-config", "--config", str(example))
    assert result.returncode == 0, result.stderr


def test_config_path_comes_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(THREE_MISTAKES)
    result = hivecord("check-config", env=cli_env(HIVECORD_CONFIG=str(config)))
    assert result.returncode != 0 and str(config) in result.stderr


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    result = hivecord("ingest", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal() -> None:
    out = FakeTerminal()
    reporter = ProgressReporter(first_block=1001, stream=out)
    reporter(Progress(cursor=1500, target=2000, blocks=500, elapsed=0.1))
    reporter.finish()
    text = out.getvalue()
    assert "\r[" in text and "block 1,500 of 2,000" in text and "5,000 blocks/s" in text and "ETA 0:00:00" in text
    assert text.endswith("\n")


class FakeClock:
    """A monotonic clock the test moves by hand; `start` stands for the host's uptime."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


# A monotonic clock starts at an arbitrary point (on Linux: boot), so seconds after boot and months
# after boot must log the same lines.
@pytest.mark.parametrize("uptime", [0.0, 90.0, 1e7])
def test_progress_lines_in_a_log(caplog: pytest.LogCaptureFixture, uptime: float) -> None:
    clock = FakeClock(uptime)
    reporter = ProgressReporter(first_block=1, stream=io.StringIO(), log_every=60, clock=clock)
    with caplog.at_level(logging.INFO, logger="hivecord.ingest"):
        reporter(Progress(cursor=100, target=1000, blocks=100, elapsed=1.0))  # the first always logs
        clock.now += 59
        reporter(Progress(cursor=200, target=1000, blocks=200, elapsed=2.0))  # too soon for another line
        clock.now += 1
        reporter(Progress(cursor=300, target=1000, blocks=300, elapsed=3.0))  # log_every later: a line
        clock.now += 1
        reporter(Progress(cursor=1000, target=1000, blocks=1000, elapsed=4.0))  # the end always logs
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert "block 100 of 1000" in lines[0] and "100 blocks/s" in lines[0]
    assert "block 300 of 1000" in lines[1] and "block 1000 of 1000" in lines[2]


def test_first_progress_line_does_not_wait_for_the_clock(caplog: pytest.LogCaptureFixture) -> None:
    # The real clock, and an interval longer than any host has been up: the first line still comes.
    reporter = ProgressReporter(first_block=1, stream=io.StringIO(), log_every=1e12)
    with caplog.at_level(logging.INFO, logger="hivecord.ingest"):
        reporter(Progress(cursor=100, target=1000, blocks=100, elapsed=1.0))
    assert len(caplog.records) == 1, "the first progress line never came"
