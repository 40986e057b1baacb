"""The shape of the house (docs/architecture.md), read from the source with ast: stages import only
down the flow, no import circles, no SQL outside bot/store/, no module over 400 lines."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
# SQL statements as they start in a string literal; docstrings are prose and are not looked at.
SQL = re.compile(
    r"\b(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|"
    r"CREATE\s+(TABLE|INDEX|VIRTUAL\s+TABLE|TRIGGER)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s)"
)


@cache
def modules() -> dict[str, Path]:
    """Every module of bot/ and cogs/ by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "cogs").rglob("*.py")]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"), str(modules()[name]))


@cache
def imports(name: str) -> frozenset[str]:
    """Every name a module imports, TYPE_CHECKING ones too: `from a.b import c` gives a.b and a.b.c."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def imported_modules(name: str) -> set[str]:
    return {other for other in imports(name) if other in modules() and other != name}


def circles() -> list[list[str]]:
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(imported_modules(node)):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in modules():
        if name not in index:
            visit(name)
    return found


def reaches(name: str, banned: tuple[str, ...]) -> set[str]:
    return {other for other in imports(name) if other in banned or other.startswith(tuple(b + "." for b in banned))}


def in_store(name: str) -> bool:
    return name == "bot.store" or name.startswith("bot.store.")


def too_long(names: list[str]) -> dict[str, int]:
    counts = {name: len(modules()[name].read_text(encoding="utf-8").splitlines()) for name in names}
    return {name: count for name, count in counts.items() if count > MAX_LINES}


def test_the_walk_finds_the_stages() -> None:
    # Guards the guards: a wrong root would make every test below pass on nothing.
    assert {"bot.hive.client", "bot.ingest.follower", "bot.delivery.worker", "cogs.feeds"} <= set(modules())
    assert any(in_store(name) for name in imported_modules("bot.ingest.follower"))


def packages() -> list[str]:
    return [name for name, path in modules().items() if path.name == "__init__.py" and name != "bot"]


def test_each_package_says_its_job() -> None:
    assert {"bot.hive", "bot.ingest", "bot.delivery", "bot.text", "bot.config", "cogs"} <= set(packages())
    unsaid = [name for name in packages() if len((ast.get_docstring(tree(name)) or "").splitlines()) != 1]
    assert not unsaid, "each package's __init__.py wants a one-line docstring of its job"


def test_the_root_holds_the_entry_points_and_the_domain() -> None:
    # A module split off another lands inside its package, not beside the entry points.
    root = sorted(path.name for path in (ROOT / "bot").glob("*.py") if path.name != "__init__.py")
    assert {"app.py", "cli.py", "runner.py", "domain.py"} <= set(root)
    assert len(root) <= 6, root


# Each stage and the stages after it, in flow order: a stage imports none of its later ones.
LATER = {
    "bot.hive": ("bot.ingest", "bot.store", "bot.delivery", "cogs"),
    "bot.ingest": ("bot.delivery", "cogs"),
    "bot.store": ("bot.ingest", "bot.delivery", "cogs"),
    "bot.delivery": ("bot.ingest", "cogs"),
}


@pytest.mark.parametrize("stage", list(LATER))
def test_stages_import_only_down_the_flow(stage: str) -> None:
    found = {name: reaches(name, LATER[stage]) for name in modules() if name == stage or name.startswith(stage + ".")}
    assert not {name: sorted(bad) for name, bad in found.items() if bad}


def test_the_core_does_not_import_cogs() -> None:
    found = {name: reaches(name, ("cogs",)) for name in modules() if name.startswith("bot")}
    assert not {name: sorted(bad) for name, bad in found.items() if bad}


def strings(name: str) -> list[tuple[int, str]]:
    """The string literals of a module with their line, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_sql_only_in_the_store() -> None:
    found = [
        f"{name}:{line}: {text[:60]!r}"
        for name in modules()
        if not in_store(name)
        for line, text in strings(name)
        if SQL.search(text)
    ]
    assert not found


def test_no_module_over_400_lines_outside_the_store() -> None:
    assert not too_long([name for name in modules() if not in_store(name)])


def test_no_store_module_over_400_lines() -> None:
    assert not too_long([name for name in modules() if in_store(name)])


def test_no_import_circle() -> None:
    assert not circles()


def test_cogs_only_translate() -> None:
    banned = ("bot.store", "bot.hive.client", "sqlite3", "aiosqlite")
    found = {name: reaches(name, banned) for name in modules() if name.startswith("cogs")}
    assert not {name: sorted(bad) for name, bad in found.items() if bad}


def test_cogs_reach_the_store_only_through_services() -> None:
    # An import check alone misses `self.bot.store.feeds...`: the cogs' use cases live in bot/services/.
    reached = {}
    for name, path in modules().items():
        if name.startswith("cogs"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(isinstance(node, ast.Attribute) and node.attr == "store" for node in ast.walk(tree)):
                reached[name] = path
    assert not reached


def test_the_architecture_doc_names_real_paths() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:bot|cogs)/[\w/.]*)`", doc))
    assert {"bot/hive/", "bot/ingest/", "bot/store/", "bot/delivery/", "cogs/"} <= named
    assert not sorted(path for path in named if not (ROOT / path).exists())
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_cog_imports_another_cog() -> None:
    # What several cogs share lives in cogs/utils/; a cog importing another would load it twice over.
    cogs = {name for name in modules() if name.startswith("cogs.") and not name.startswith("cogs.utils")}
    found = {name: sorted(imported_modules(name) & (cogs - {name})) for name in cogs}
    assert not {name: bad for name, bad in found.items() if bad}
