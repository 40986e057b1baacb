"""The benchmarks: each one listed in the README, and none importing a test module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_walk_finds_the_benchmarks() -> None:
    assert {"ingest.py", "search.py", "stop_times.py"} <= {path.name for path in BENCHMARKS}


def test_the_readme_lists_every_benchmark() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not [path.name for path in BENCHMARKS if f"`python benchmarks/{path.name}" not in readme]


def test_no_benchmark_imports_a_test_module() -> None:
    # What a benchmark shares with the tests (fakes, harnesses) lives in modules of its own.
    found = {
        path.name: sorted(name for name in imported(path) if any(part.startswith("test_") for part in name.split(".")))
        for path in BENCHMARKS
    }
    assert not {name: bad for name, bad in found.items() if bad}
