"""The generator's random pools: account names, sentences, paragraphs, hex and base-36 strings."""

from __future__ import annotations

import random

from .words import B36, WORDS


class TextPools:
    """Random text from the generator's seeded ``_rng``."""

    _rng: random.Random
    _sentences: list[str]

    @staticmethod
    def _make_accounts(rng: random.Random, n: int) -> list[str]:
        syll = ("ka", "mi", "ro", "zen", "tak", "lu", "na", "shi", "ve", "dra", "ko", "ri", "an", "el",
                "mo", "jo", "pix", "tor", "sa", "yu", "ne", "on", "ix", "bel")
        names: set[str] = set()
        while len(names) < n:
            name = "".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))
            r = rng.random()
            if r < 0.3:
                name += str(rng.randint(1, 999))
            elif r < 0.4:
                name += "." + rng.choice(("art", "games", "cur", "fan", "hive"))
            if 3 <= len(name) <= 16:
                names.add(name)
        return sorted(names)

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        words = rng.choices(WORDS, k=rng.randint(7, 19))
        return " ".join(words).capitalize() + rng.choice((".", ".", ".", "!", "?", "…"))

    def _paragraph(self, lo: int = 3, hi: int = 7) -> str:
        return " ".join(self._rng.choices(self._sentences, k=self._rng.randint(lo, hi)))

    def _text(self, size: int) -> str:
        parts: list[str] = []
        total = 0
        while total < size:
            p = self._paragraph()
            parts.append(p)
            total += len(p) + 2
        return "\n\n".join(parts)

    def _hex(self, n: int) -> str:
        return f"{self._rng.getrandbits(4 * n):0{n}x}"

    def _b36(self, n: int) -> str:
        return "".join(self._rng.choices(B36, k=n))

