"""The one backoff formula: waits that double from a first wait up to a cap (no Discord, no network here)."""

from __future__ import annotations


def doubling(first: float, cap: float, failures: int) -> float:
    """The wait after `failures` earlier failures: `first`, then twice that each time, never past `cap`."""
    return min(cap, first * 2.0 ** min(max(failures, 0), 30))


class Backoff:
    """Waits that double from `first` up to `cap` seconds: bounded, and never a tight loop."""

    def __init__(self, cap: float, first: float = 1.0) -> None:
        self.cap = cap
        self.first = min(first, cap)
        self.failures = 0

    def next(self) -> float:
        delay = doubling(self.first, self.cap, self.failures)
        self.failures += 1
        return delay
