"""Every setting hivecord has, declared once: its section, type, default, check and doc.

Each setting is one ``setting(type, default, doc, check)`` on its section's dataclass below;
bot.config.load reads the file and the environment from these declarations, and a test proves
config.example.toml says the same. The Discord token is deliberately not a setting: it comes
only from ``$DISCORD_TOKEN``, so configs can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config.database import DatabaseTarget, database_url
from bot.config.schema import (
    INTEGER,
    NUMBER,
    STRING,
    STRINGS,
    Field,
    Setting,
    at_least,
    between,
    community_ids,
    describe,
    file_path,
    number_between,
    one_of,
    optional_url,
    positive,
    setting,
    settings_of,
    urls,
    word_or_integer,
)
from bot.config.tables import TABLE, Table, community_accounts, optional_account
from bot.process.shards import MAX_SHARDS, parse_ids

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Discord allows a bot 50 requests a second in all (interaction answers aside); more gets 429s.
DISCORD_GLOBAL_RATE = 50
# block_api.get_block_range refuses more than 1000 blocks per call.
_MAX_BATCH_SIZE = 1000


def _start_block(value: str | int, field: Field) -> int | Literal["head"]:
    if isinstance(value, str) and value.strip().lower() == "head":
        return "head"
    if isinstance(value, int) and value >= 1:
        return value
    field.problem(f'expected "head" or a positive block number, found {describe(value)}')
    return "head"


def _guild_id(value: int, field: Field) -> int | None:
    # A snowflake is an unsigned 64-bit integer; 0 means "sync commands globally".
    return between(0, 2**64 - 1, "0 or a guild id")(value, field) or None


@dataclass(frozen=True)
class HiveConfig:
    nodes: tuple[str, ...] = setting(
        STRINGS,
        ["https://api.hive.blog", "https://api.deathwing.me", "https://api.openhive.network"],
        """Hive API nodes (JSON-RPC over http or https), tried in this order; on a failure or a node
        that lags behind, the next one is used. At least one.""",
        urls(("http", "https"), at_least_one="must list at least one node URL"),
    )
    communities: tuple[str, ...] = setting(
        STRINGS,
        ["hive-158489"],
        """Communities to follow even before any Discord server has a feed for them: their posts are
        indexed for /search and /subscribe from the start. Ids are "hive-" and 5 to 7 digits,
        lowercase, each listed once. hive-158489 is Anime Realm. May be empty ([]).""",
        community_ids,
    )
    start_block: int | Literal["head"] = setting(
        word_or_integer('"head" or a positive block number'),
        "head",
        """Where to start on the very first run, when the database has no cursor yet: "head" (the
        newest block) or a block number to catch up from. Ignored once the database has a cursor.""",
        _start_block,
    )
    request_timeout: float = setting(
        NUMBER, 10.0, "Seconds to wait for one node request before trying the next node. Greater than 0.", positive()
    )
    batch_size: int = setting(
        INTEGER,
        500,
        """Blocks fetched per block_api.get_block_range call while catching up. 1 to 1000. Two batches
        are in memory at once (one in flight, one being written): 500 mainnet blocks are ~12 MB.""",
        between(1, _MAX_BATCH_SIZE),
    )
    poll_interval: float = setting(
        NUMBER,
        0.5,
        """Seconds between polls for a new irreversible block once caught up; each poll is one request,
        which also brings the next block once that is due (a block comes every 3 s). A new review
        reaches Discord about half of this after it is final, on average. Greater than 0.""",
        positive(),
    )
    max_head_lag: int = setting(
        INTEGER,
        20,
        """A node whose head block trails the best head seen by more than this many blocks is skipped
        as stale. At least 1.""",
        at_least(1),
    )
    facts_recheck_seconds: float = setting(
        NUMBER,
        3600.0,
        """How often the Hive facts behind /roles rules (community subscribers and team, reputation of
        linked accounts) are read again in bulk, in seconds; roles follow the changes. Greater than 0.""",
        positive(),
    )
    community_roles_refresh_seconds: float = setting(
        NUMBER,
        900.0,
        """How often each followed community's roles (bridge.list_community_roles: its moderators and
        the accounts it muted) are read again, in seconds; one call per community each time, and one
        more soon after a setRole is seen on chain. Greater than 0.""",
        positive(),
    )


@dataclass(frozen=True)
class DatabaseConfig:
    # setting() returns a dataclasses.field (no default), which RUF009 cannot see.
    path: Path = setting(  # noqa: RUF009
        STRING,
        "hivecord.sqlite3",
        """The SQLite file holding all state. A relative path is relative to this config file's folder
        (to the working directory when there is no config file, or when it comes from the
        environment). Leave it out when database.url is set.""",
        file_path,
    )
    # None: database.path says where the database is. setting() is a dataclasses.field, as above.
    url: DatabaseTarget | None = setting(  # noqa: RUF009
        STRING,
        "",
        """The database as a URL, instead of database.path: sqlite:///relative/file (relative as
        database.path is), sqlite:////absolute/file, or a PostgreSQL server,
        postgresql://user:password@host:5432/database (postgres:// too), where several hivecord
        processes may share one database. The password may also come from $PGPASSWORD; write @ : /
        in it as %40 %3A %2F. It is never shown in a log line or a message. Empty: database.path.
        Setting both is refused.""",
        database_url,
    )

    @property
    def target(self) -> DatabaseTarget:
        """The database to open, from database.url when set, else database.path."""
        return self.url if self.url is not None else DatabaseTarget.sqlite(self.path)


def _shard_ids(value: str, field: Field) -> tuple[int, ...]:
    try:
        return parse_ids(value)
    except ValueError as exc:
        field.problem(str(exc))
        return ()


@dataclass(frozen=True)
class DiscordConfig:
    # None means "Discord's own"; set only to point the bot at a proxy or a test server.
    api_base: str | None = setting(
        STRING,
        "",
        """Base URL of Discord's REST API. Empty means Discord's own; set an http(s) URL only to use a
        REST proxy or a test server, e.g. "http://127.0.0.1:8080/api/v10".""",
        optional_url(("http", "https")),
    )
    gateway_url: str | None = setting(
        STRING,
        "",
        "Gateway (websocket) URL. Empty means Discord's own; otherwise a ws:// or wss:// URL.",
        optional_url(("ws", "wss")),
    )
    # None means slash commands are synced globally.
    dev_guild_id: int | None = setting(
        INTEGER,
        0,
        """0 syncs slash commands globally (they can take a while to appear). A guild id (snowflake)
        syncs them to that one server instantly, which is handy while developing.""",
        _guild_id,
    )
    retry_max_seconds: float = setting(
        NUMBER,
        300.0,
        """The longest wait, in seconds, between attempts to reach Discord when it cannot be reached at
        start, and between retries of a refused slash-command sync (waits double up to this). Greater than 0.""",
        positive(),
    )
    shard_count: int = setting(
        INTEGER,
        0,
        """How many gateway shards the bot has in all, over every process. 0 takes Discord's advice and
        serves every shard in this process. Set it, with discord.shard_ids, to spread the shards over
        several `hivecord run` processes sharing one PostgreSQL.""",
        between(0, MAX_SHARDS),
    )
    shard_ids: tuple[int, ...] = setting(
        STRING,
        "",
        """The shards this process serves, as ids and ranges such as "0-3" or "0,2": each below
        discord.shard_count. Empty means all of them. `hivecord run --shards 0-3/8` sets both.""",
        _shard_ids,
    )


@dataclass(frozen=True)
class DeliveryConfig:
    max_messages_per_second: float = setting(
        NUMBER,
        5.0,
        """The most messages sent to Discord per second; a backlog after downtime drains at this pace.
        Greater than 0.""",
        positive(),
    )
    requests_per_second: float = setting(
        NUMBER,
        45.0,
        """The most requests per second hivecord makes to Discord in all: channel posts, edits and series
        alerts by DM (opening a DM costs one request, each alert one more). Discord allows 50 a second
        for the whole bot, so more than 50 is refused while discord.api_base is Discord's own; the rest
        is headroom. Greater than 0.""",
        positive(),
    )
    vote_digest_minutes: int = setting(
        INTEGER,
        10,
        """In "all" vote mode, votes on one post are gathered into at most one message per this many
        minutes. At least 1.""",
        at_least(1),
    )
    thread_replies_per_window: int = setting(
        INTEGER,
        20,
        """The most replies of one post a feed's thread shows one by one per window of chain time (and of
        the replies already on chain when the thread starts); the rest of a burst are counted in one
        "N more replies on Hive" line per window, edited as the burst goes on. At least 1.""",
        at_least(1),
    )
    thread_reply_window_minutes: int = setting(
        INTEGER,
        10,
        """The window of chain time, in minutes, that delivery.thread_replies_per_window counts in. At
        least 1.""",
        at_least(1),
    )
    stats_refresh_minutes: int = setting(
        INTEGER,
        5,
        """How often, at most, a mirrored post's embed is edited to refresh its vote count and payout, in
        minutes. At least 1.""",
        at_least(1),
    )
    refused_retry_seconds: float = setting(
        NUMBER,
        300.0,
        """A channel, role or DM lane Discord refused (403/404) is tried again when something changes
        (a permission, role or channel update, the member back): the first time at once, then at most
        once per this many seconds, however many updates arrive. Greater than 0.""",
        positive(),
    )
    retention_days: int = setting(
        INTEGER,
        14,
        """Finished delivery jobs and delivered outbox rows older than this many days are pruned, so the
        database does not grow without bound. At least 1.""",
        at_least(1),
    )


@dataclass(frozen=True)
class CurationConfig:
    # setting() returns a dataclasses.field (no default), which RUF009 cannot see.
    accounts: Table = setting(  # noqa: RUF009
        TABLE,
        {},
        """Each community whose curators may vote from Discord, and the Hive account that votes for it:
        { "hive-158489" = "animerealm.cur" }. Its posting key is never read from this file: it comes
        only from the environment, HIVECORD_POSTING_KEY_ and the account in capitals with . and - as _
        (HIVECORD_POSTING_KEY_ANIMEREALM_CUR). A community without a key here, or without its key
        in the environment, has no curation. May be empty ({}).""",
        community_accounts,
    )
    daily_votes: int = setting(
        INTEGER,
        20,
        """The most votes one community's curation account casts from Discord in 24 hours, across all
        servers. At least 1.""",
        at_least(1),
    )
    vote_margin_hours: float = setting(
        NUMBER,
        12.0,
        """A vote is refused when the post's 7-day payout window closes within this many hours (the
        chain accepts a vote on a paid-out post, to no effect). 0 to 167.""",
        number_between(0, 167),
    )


@dataclass(frozen=True)
class LimitsConfig:
    feeds_per_server: int = setting(
        INTEGER,
        50,
        """The most feeds one Discord server may have; /feed add refuses another, in words. At least 1.""",
        at_least(1),
    )
    role_rules_per_server: int = setting(
        INTEGER,
        25,
        """The most /roles rules one Discord server may have; /roles set refuses another. At least 1.""",
        at_least(1),
    )
    curators_per_feed: int = setting(
        INTEGER,
        50,
        """The most accounts a feed's curators: option may list (their upvotes are relayed as curators').
        At least 1.""",
        at_least(1),
    )


@dataclass(frozen=True)
class BridgeConfig:
    account: str = setting(
        STRING,
        "",
        """The bot's own Hive account, which posts members' replies from Discord under the posting
        authority each member grants it on chain (/reply enable). Its posting key comes only from the
        environment, as for curation: HIVECORD_POSTING_KEY_ and the account in capitals with . and - as
        _. Empty: replies from Discord are off.""",
        optional_account,
    )


@dataclass(frozen=True)
class LoggingConfig:
    level: str = setting(
        STRING,
        "INFO",
        "DEBUG, INFO, WARNING or ERROR (any case). Logs go to standard error.",
        one_of(LOG_LEVELS, "a log level"),
    )


SECTIONS: dict[str, type[Any]] = {
    "hive": HiveConfig,
    "database": DatabaseConfig,
    "discord": DiscordConfig,
    "delivery": DeliveryConfig,
    "curation": CurationConfig,
    "limits": LimitsConfig,
    "bridge": BridgeConfig,
    "logging": LoggingConfig,
}
SETTINGS: tuple[Setting, ...] = tuple(s for name, cls in SECTIONS.items() for s in settings_of(name, cls))


@dataclass(frozen=True)
class Config:
    hive: HiveConfig
    database: DatabaseConfig
    discord: DiscordConfig
    delivery: DeliveryConfig
    curation: CurationConfig
    limits: LimitsConfig
    bridge: BridgeConfig
    logging: LoggingConfig
    # The file the settings came from; None for built-in defaults or a dict parsed in memory.
    source: Path | None = None
    # The environment variables that set a value, in declaration order.
    from_env: tuple[str, ...] = ()
