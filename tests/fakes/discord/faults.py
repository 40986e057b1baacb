"""Injected failures: answer some requests with an error instead of serving them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import error_body


@dataclass
class RequestFacts:
    """What a fault rule may look at."""

    method: str
    path: str
    template: str
    params: Mapping[str, str]
    body: Any


@dataclass
class Fault:
    status: int
    code: int | None
    matches: Callable[[RequestFacts], bool]
    times: int | None = None  # None: until cleared
    retry_after: float = 0.05
    is_global: bool = False
    via: bool = True
    message: str | None = None
    hits: int = field(default=0)

    def body(self) -> dict[str, Any]:
        if self.status == 429:
            body: dict[str, Any] = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            if self.code is not None:
                body["code"] = self.code
            return body
        return error_body(self.status, self.code, self.message)


class FaultRules:
    """First matching rule wins; a rule with `times` set retires after that many answers."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.rules.append(fault)
        return fault

    def take(self, facts: RequestFacts) -> Fault | None:
        for fault in self.rules:
            if fault.matches(facts):
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.rules.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.rules.clear()
