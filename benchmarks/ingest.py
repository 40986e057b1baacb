"""Ingest speed: `hivecord ingest` against beem's Blockchain.stream, over the same loopback node.

Starts the tests' fake Hive node in its own process, serving N generated mainnet-like blocks
(~40 ops, ~23 KB each, a review in the followed community every ~20 blocks) as pre-serialised
bytes, then times, in the same run:
  - `hivecord ingest --from-block B --to-block B+N-1` (the whole process, start-up included);
  - beem's `Blockchain.stream(opNames=["comment", "vote"], max_batch_size=50)` over the same
    blocks (the stream loop only: beem's own start-up is not counted against it).
Each is run --runs times, in turn; prints every run, then the best and the median blocks/s of
each, their ratios, and the ingest's peak RSS.

    python benchmarks/ingest.py [--blocks 20000] [--beem-blocks N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import cli_command, cli_env, write_config  # noqa: E402

START = 90_000_000


def start_node(blocks: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.hive",
            "--generate",
            str(blocks),
            "--start-block",
            str(START),
            # One block past the last, so the last generated block is irreversible.
            "--head",
            str(START + blocks),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("URL "):
        proc.kill()
        raise SystemExit(f"the fake node did not start: {line!r}")
    return proc, line.split()[1]


def run_hivecord(url: str, blocks: int) -> tuple[float, int, int]:
    """(seconds, peak RSS in bytes, exit code) of one whole `hivecord ingest` process."""
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), [url], request_timeout=30.0)
        args = cli_command(
            "ingest", "--config", str(config), "--from-block", str(START), "--to-block", str(START + blocks - 1)
        )
        began = time.perf_counter()
        proc = subprocess.Popen(args, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 and proc.stderr is not None:
            sys.stderr.write(proc.stderr.read().decode())
        # ru_maxrss is in KiB on Linux.
        return elapsed, usage.ru_maxrss * 1024, proc.returncode


BEEM_SCRIPT = """
import sys, time
from beem import Hive
from beem.blockchain import Blockchain
url, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hive = Hive(node=[url], num_retries=3, timeout=30)
chain = Blockchain(blockchain_instance=hive)
began = time.perf_counter()
ops = 0
for op in chain.stream(opNames=["comment", "vote"], start=start, stop=stop, max_batch_size=50, threading=False):
    ops += 1
print(time.perf_counter() - began, ops)
"""


def run_beem(url: str, blocks: int) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", BEEM_SCRIPT, url, str(START), str(START + blocks - 1)],
        capture_output=True,
        text=True,
        check=True,
        env=cli_env(),
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=20_000)
    parser.add_argument("--beem-blocks", type=int, default=0, help="blocks for beem (default: the same)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, taken in turn (default: 3)")
    args = parser.parse_args()
    beem_blocks = args.beem_blocks or args.blocks

    print(f"generating {args.blocks:,} blocks and starting the loopback node...", flush=True)
    node, url = start_node(args.blocks)
    ours: list[float] = []
    theirs: list[float] = []
    peak = 0
    try:
        # Taken in turn: a shared machine's speed drifts over minutes (the same ingest has taken
        # 3.4 to 5.9 s of CPU time a few minutes apart), and both sides see the same drift.
        for run in range(1, args.runs + 1):
            seconds, rss, code = run_hivecord(url, args.blocks)
            if code != 0:
                raise SystemExit(f"hivecord ingest failed with exit code {code}")
            ours.append(args.blocks / seconds)
            peak = max(peak, rss)
            beem_seconds, ops = run_beem(url, beem_blocks)
            theirs.append(beem_blocks / beem_seconds)
            print(
                f"run {run}: hivecord {args.blocks:,} blocks in {seconds:.2f} s = {ours[-1]:,.0f} blocks/s"
                f" (whole process, peak RSS {rss / 2**20:.0f} MB); beem {beem_blocks:,} blocks in"
                f" {beem_seconds:.2f} s = {theirs[-1]:,.0f} blocks/s ({ops:,} ops); {ours[-1] / theirs[-1]:.1f}x",
                flush=True,
            )
    finally:
        node.terminate()
        node.wait(timeout=30)
    print(f"hivecord ingest : best {max(ours):,.0f} blocks/s, median {median(ours):,.0f} (whole process)")
    print(f"hivecord peak RSS: {peak / 2**20:.0f} MB (highest of the runs)")
    print(f"beem stream     : best {max(theirs):,.0f} blocks/s, median {median(theirs):,.0f}")
    print(
        f"ratio           : hivecord is {max(ours) / max(theirs):.1f}x beem's stream, best against best"
        f" ({median(ours) / median(theirs):.1f}x median against median)"
    )


if __name__ == "__main__":
    main()
