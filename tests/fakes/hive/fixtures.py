"""Loading recorded chain data: the seed fixture and hivemind's mock blocks and virtual ops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hive"
SEED_FIXTURE = FIXTURES / "seed" / "anime_realm_review.json"


def load_seed_fixture(path: str | Path = SEED_FIXTURE) -> tuple[dict[int, dict[str, Any]], str]:
    """(blocks keyed by number, expected body after the edit) from the seed fixture."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    blocks = {int(k): v for k, v in raw.items() if k.isdigit()}
    return blocks, str(raw["expected_edited_body"])


def load_mock_blocks(path: str | Path) -> dict[int, dict[str, Any]]:
    """hivemind mock blocks (only ``transactions``); the node fills ids, times and witness fields."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(k): v for k, v in raw.items() if k.isdigit()}


def load_mock_vops(path: str | Path) -> dict[int, list[dict[str, Any]]]:
    """hivemind's mock virtual ops (``{"virtual_operations": [op, ...]}`` per block) as a vops mapping."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(k): list(v.get("virtual_operations", [])) for k, v in raw.items() if k.isdigit()}

