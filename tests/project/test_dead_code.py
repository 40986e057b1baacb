"""No function of bot/ or cogs/ that only tests call: each is named somewhere in bot/ or cogs/ besides its own def."""

from __future__ import annotations

import ast

from tests.project.test_architecture import modules, tree

# Called by discord.py or the interpreter, not by our code: hooks a subclass overrides and the
# `setup` every extension module has.
HOOKS = frozenset(
    {
        "setup",
        "setup_hook",
        "launch_shards",
        "interaction_check",
        "on_timeout",
        "on_error",
        "cog_load",
        "cog_unload",
        "from_custom_id",
        "callback",
    }
)
# Decorators that hand the function to discord.py (a slash command, a listener, an autocomplete).
LIBRARY_DECORATORS = ("app_commands.", "commands.", "listener", "autocomplete", "command")


def handed_to_the_library(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d).startswith(LIBRARY_DECORATORS) or ".autocomplete(" in ast.unparse(d)
               for d in node.decorator_list)  # fmt: skip


def named_in(name: str) -> set[str]:
    """Every name a module mentions: variables, attributes, imported names, and the words of its
    strings but docstrings (getattr, an extension's dotted name). One walk: ast.walk yields a
    parent before its children, so a docstring is known before it is reached."""
    found: set[str] = set()
    docstrings: set[int] = set()
    # A name listed in __all__ is exported, not used: it does not count as a call.
    exported = {
        id(const)
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        for const in ast.walk(node.value)
    }
    for node in ast.walk(tree(name)):
        if id(node) in exported:
            continue
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name.rpartition(".")[2])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.update(node.value.replace(".", " ").split())
        elif isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return found


def functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    return [
        (name, node)
        for name in modules()
        for node in ast.walk(tree(name))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def unused() -> list[str]:
    named = set().union(*(named_in(name) for name in modules()))
    return [
        f"{name}:{node.lineno} {node.name}"
        for name, node in functions()
        if node.name not in named
        and not node.name.startswith("__")
        and node.name not in HOOKS
        and not handed_to_the_library(node)
    ]


def test_the_walk_finds_functions() -> None:
    # Guards the guard: a walk that found nothing would pass on nothing.
    found = {node.name for _, node in functions()}
    assert {"keep_running", "setup_hook", "chain_batch", "search"} <= found


def test_every_function_is_called_from_bot_or_cogs() -> None:
    # A function that only tests call is dead weight: remove it, or use it where its job is done.
    assert not unused()
