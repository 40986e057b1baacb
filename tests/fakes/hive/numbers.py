"""Integers as hived's JSON writes them."""

from __future__ import annotations

from typing import Any

_HIVED_INT_MAX = 0xFFFFFFFF


def hived_numbers(value: Any) -> Any:
    """Integers as hived's JSON writes them: beyond 32 bits (either sign) a 64-bit value is a string
    (``operation_id``, ``next_operation_begin``, ``rshares``, ``weight``, ``total_vote_weight``...)."""
    if type(value) is int:
        return str(value) if not -_HIVED_INT_MAX <= value <= _HIVED_INT_MAX else value
    if isinstance(value, dict):
        return {k: hived_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [hived_numbers(v) for v in value]
    return value
