"""The words series detection knows: generic words, trimmed edges, glue and filler words, and tests on them.

Kept as keys (see bot.series.detect.series_key): lowercase, accentless, letters and digits only.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_TAG = 64
COMMUNITY_TAG = re.compile(r"hive-?\d+", re.IGNORECASE)

# Keys (see series_key) of tags and title words that never name a series by themselves.
GENERIC_KEYS: frozenset[str] = frozenset(
    {
        # what the post is
        "anime", "animes", "manga", "mangas", "review", "reviews", "resena", "resenas", "analisis",
        "critica", "opinion", "recap", "recommendation", "recommendations", "thoughts", "impressions",
        "manhwa", "manhua", "webtoon", "donghua", "lightnovel", "novel", "novels", "comics", "comic",
        "cartoon", "cartoons", "movie", "movies", "film", "films", "cine", "pelicula", "peliculas",
        "series", "serie", "tv", "ova", "episode", "episodes", "episodio", "season", "temporada",
        "chapter", "capitulo", "vol", "volume", "otaku", "fanart", "art", "drawing", "digitalart",
        "illustration", "cosplay", "animation", "music", "ost", "news", "blog", "life", "photography",
        "writing", "story", "stories", "fiction", "entertainment", "culture", "collab", "contest",
        "top", "list", "ranking", "gaming", "games", "game", "videogames", "kpop", "japan", "japanese",
        "crosspost", "mythoughts", "hiveanime", "animereview", "mangareview",
        # genres
        "action", "adventure", "comedy", "drama", "romance", "fantasy", "horror", "mystery", "thriller",
        "scifi", "sciencefiction", "sliceoflife", "isekai", "mecha", "shonen", "shounen", "seinen",
        "shojo", "shoujo", "josei", "sports", "psychological", "supernatural",
        # languages
        "spanish", "english", "espanol", "ingles", "portuguese", "portugues",
        # studios: a studio tag is not the show
        "bones", "mappa", "ufotable", "madhouse", "toei", "toeianimation", "kyoani", "kyotoanimation",
        "wit", "witstudio", "cloverworks", "sunrise", "trigger", "a1pictures", "productionig", "pierrot",
        "shaft", "jcstaff", "ghibli", "studioghibli",
        # Hive communities, front ends and curation projects
        "hive", "hiveengine", "ocd", "neoxian", "palnet", "leofinance", "proofofbrain", "pob",
        "creativecoin", "archon", "ecency", "peakd", "waivio", "curation", "cervantes", "actifit",
        "appreciator", "vyb", "ctp", "alive", "threads", "aliento", "spanishcommunity", "hivelearners",
        "oneup", "gems", "posh", "dtube", "inleo", "leo", "neoxag", "lassecash",
    }
)  # fmt: skip

# What a post is, in what language: dropped from the edges of a title phrase ("Anime Metallic Rouge
# review"). Narrower than GENERIC_KEYS on purpose: genre words belong to names ("Toy Story").
TRIM_KEYS: frozenset[str] = frozenset(
    {
        "anime", "animes", "manga", "mangas", "manhwa", "manhua", "webtoon", "donghua", "review",
        "reviews", "resena", "resenas", "analisis", "critica", "opinion", "recap", "impressions",
        "thoughts", "series", "serie", "movie", "movies", "film", "pelicula", "ova", "tv", "episode",
        "episodes", "episodio", "season", "temporada", "chapter", "capitulo", "vol", "volume",
        "lightnovel", "novel", "spanish", "english", "espanol", "ingles", "eng", "esp",
    }
)  # fmt: skip

# Small words that glue generic words into one tag ("animereviewenespanol", "myanimeart").
GLUE_KEYS: frozenset[str] = frozenset(
    {"an", "the", "of", "on", "my", "mi", "and", "de", "del", "la", "el", "en", "in", "to", "for"}
)

SPLIT_VOCABULARY: frozenset[str] = GENERIC_KEYS | GLUE_KEYS

# A title phrase made only of these (and generic words) is no series: "My first anime of the year".
FILLER_KEYS: frozenset[str] = GLUE_KEYS | frozenset(
    {
        "a", "y", "about", "mis", "our", "this", "that", "los", "las", "un", "una", "sobre", "with", "is", "it",
        "i", "new", "first", "final", "part", "best", "worst", "why", "what", "how", "your", "you",
        "me", "post", "week", "weekly", "day", "daily", "today", "year", "favorite", "favourite",
    }
)  # fmt: skip

# After a "Review of"/"Reseña de" marker these only introduce the name.
LEADING_CONNECTORS: frozenset[str] = frozenset(
    {"of", "on", "about", "de", "del", "sobre", "for", "to", "a", "an", "un", "una"}
)


def is_trimmable(key: str) -> bool:
    """True when the key may be dropped from the edge of a title phrase ("review", a community tag)."""
    return not key or key in TRIM_KEYS or bool(COMMUNITY_TAG.fullmatch(key))


def is_generic_key(key: str) -> bool:
    """True when the key is a generic word or only glues generic/filler words ("animereviewespanol")."""
    if not key or key.isdigit() or key in GENERIC_KEYS or COMMUNITY_TAG.fullmatch(key):
        return True
    return _segments_into_generic(key)


@lru_cache(maxsize=4096)
def _segments_into_generic(key: str) -> bool:
    if len(key) > MAX_TAG:
        return False
    longest = max(len(word) for word in SPLIT_VOCABULARY)
    # best[i]: most generic (not glue) letters in a split of key[:i] into vocabulary words, or -1.
    # Mostly-generic splits only: "toystory" = "to"+"y"+"story" is a film, "myanimereview" is not.
    best = [-1] * (len(key) + 1)
    best[0] = 0
    for end in range(1, len(key) + 1):
        for start in range(max(0, end - longest), end):
            word = key[start:end]
            if best[start] >= 0 and word in SPLIT_VOCABULARY:
                gain = len(word) if word in GENERIC_KEYS else 0
                best[end] = max(best[end], best[start] + gain)
    return best[len(key)] > 0 and 2 * best[len(key)] >= len(key)
