"""Typed, layered configuration.

Layers, later wins: built-in defaults, the TOML file, environment variables,
command-line flags. Paths follow XDG through platformdirs:

* config: ``user_config_path("cftui")/config.toml``, or ``--config`` / ``CFTUI_CONFIG``
* data:   ``user_data_path("cftui")/cftui.sqlite3``, or ``--db`` / ``CFTUI_DB``; or a
  PostgreSQL database: ``--db-url`` / ``CFTUI_DB_URL`` / ``[store] url``
* logs:   ``user_log_path("cftui")/cftui.log`` (rotated), or ``CFTUI_LOG_DIR``

Validation is strict: an unknown key or a wrong type is one clear error that
names the key and the file. Secrets (API keys, webhook secrets) are held in
:class:`Secret`, whose ``str``/``repr`` are masked, so they cannot leak into a
log line, a screen or an error message by accident.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlparse

import platformdirs

from cftui import store_location as location
from cftui.errors import ConfigError, did_you_mean
from cftui.private_files import shared_mode, write_private

APP_NAME = "cftui"
ENV_CONFIG = "CFTUI_CONFIG"
ENV_DB = "CFTUI_DB"
ENV_DB_URL = "CFTUI_DB_URL"
ENV_LOG_DIR = "CFTUI_LOG_DIR"

NETWORKS = ("Main", "Angornet")

# The Angor app's own defaults (angor CONTRACT.md §1.1 and §3.1).
ANGOR_DEFAULT_RELAYS = {
    "Main": [
        "wss://relay.angor.io",
        "wss://relay2.angor.io",
        "wss://relay.damus.io",
        "wss://nos.lol",
        "wss://nostr-01.yakihonne.com",
        "wss://nostr-02.yakihonne.com",
    ],
    "Angornet": ["wss://relay.angor.io", "wss://relay2.angor.io"],
}
ANGOR_DEFAULT_INDEXER = {
    "Main": "https://fulcrum.angor.online",
    "Angornet": "https://signet.angor.online",
}


class Secret:
    """A secret string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Secret({self.masked})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def mask(value: str | None) -> str:
    """Show that a secret is set without showing it: '••••••••' plus its length class."""
    if not value:
        return "(not set)"
    return "•" * 8


# ---------------------------------------------------------------- sections


def setting(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    factory: Any = dataclasses.MISSING,
    example: Any = None,
    commented: bool = False,
    table: type | None = None,
    toml: str | None = None,
) -> Any:
    """A config field with what the README and the starter file say of it (``cftui.config_reference``).

    The default lives here and only here: the starter config and the README's key reference are
    generated from these fields, and tests/test_config_reference.py keeps the README equal to them.
    ``example`` is shown for a key without a useful default; ``commented`` shows it as a comment;
    ``table``/``toml`` name the section class and its TOML name for the top-level Config fields.
    """
    metadata = {"doc": doc, "example": example, "commented": commented, "table": table, "toml": toml}
    if factory is not dataclasses.MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class StoreConfig:
    """One BTCPay Server store (``[[btcpay]]``)."""

    name: str = setting(
        doc="required; used in the UI, the CLI and the webhook URL /webhook/main\n"
        "(at most 64 characters; no spaces, control characters or / ? # % \\ \" < > ` ^ { } | [ ])",
        example="main",
    )
    url: str = setting(doc="required", example="https://btcpay.example.com")
    store_id: str = setting(
        doc="required (Store settings > General)", example="9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776"
    )
    api_key: Secret | None = setting(
        None, "set one of api_key, api_key_env (name of an env var) or api_key_file (a path)", example="..."
    )
    api_key_env: str | None = setting(None, "the environment variable that holds the key", example="BTCPAY_KEY",
                                      commented=True)  # fmt: skip
    api_key_file: str | None = setting(None, "a file that holds the key alone", example="~/.config/cftui/main.key",
                                       commented=True)  # fmt: skip
    webhook_secret: Secret | None = setting(
        None, "optional until you use webhooks; `cftui webhook register` sets it", example="..."
    )
    # Set by `cftui webhook register`; used to read BTCPay's own delivery list.
    webhook_id: str | None = setting(
        None, "set by `cftui webhook register`; lets cftui show BTCPay's own delivery list", example="..."
    )
    verify_tls: bool = setting(True, "TLS certificates are verified unless you turn this off")
    timeout: int = setting(30, "seconds per request")
    # BTCPay's "count all invoices created on the store as part of the goal" is not in the Greenfield API.
    crowdfund_all_invoices: tuple[str, ...] = setting(
        (), "ids of crowdfund apps whose goal counts every invoice of the store (see Figures)"
    )

    def resolve_api_key(self) -> Secret | None:
        """The key from ``api_key``, else the env var, else the file."""
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            return self._outside_key(os.environ.get(self.api_key_env, ""), f"environment variable {self.api_key_env}")
        if self.api_key_file:
            path = Path(self.api_key_file).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"Store '{self.name}': cannot read api_key_file {path}: {exc.strerror}.",
                    hint="Fix the path or use api_key / api_key_env.",
                ) from None
            except UnicodeDecodeError:
                raise ConfigError(
                    f"Store '{self.name}': api_key_file {path} is not UTF-8 text.",
                    hint="It should hold the API key alone, as BTCPay shows it.",
                ) from None
            return self._outside_key(text, f"api_key_file {path}")
        return None

    def _outside_key(self, text: str, where: str) -> Secret | None:
        """A key from the environment or a file: the newline and spaces around it are dropped."""
        value = text.strip()
        if value and not is_header_safe(value):
            raise ConfigError(
                f"Store '{self.name}': the API key in {where} has spaces or control characters inside it.",
                hint="It should hold the API key alone, as BTCPay shows it.",
            )
        return Secret(value) if value else None

    def require_api_key(self) -> Secret:
        key = self.resolve_api_key()
        if not key:
            where = (
                f"environment variable {self.api_key_env} is empty"
                if self.api_key_env
                else "no api_key, api_key_env or api_key_file is set"
            )
            raise ConfigError(
                f"Store '{self.name}' has no API key ({where}).",
                hint="Create one in BTCPay under Account > API Keys (see README) and set it.",
            )
        return key


@dataclass(frozen=True)
class SyncConfig:
    """``[sync]``: how and how often BTCPay stores are read."""

    interval: int = setting(300, "seconds between automatic syncs (dashboard, `cftui sync`, daemon)")
    page_size: int = setting(200, "invoices per request")
    overlap: int = setting(3600, "seconds re-read behind the newest invoice kept")
    concurrency: int = setting(8, "parallel payment-method requests, for BTCPay older than 2.3.6")
    retry_budget: int = setting(60, "seconds of retries on 429/5xx/timeouts before a request is reported failed")


@dataclass(frozen=True)
class WebhooksConfig:
    """``[webhooks]``: the receiver BTCPay delivers to."""

    enabled: bool = setting(False, "the dashboard starts the receiver when true")
    host: str = setting("127.0.0.1", "loopback by default; a warning is printed for any other address")
    port: int = setting(8765, "the TCP port BTCPay delivers to")
    max_body_bytes: int = setting(1_048_576, "larger bodies get 413")
    read_timeout: int = setting(
        10, "seconds a client may take to send its request line and headers, and again its body"
    )
    rejected_retention: int = setting(10_000, "rejected requests kept; accepted ones are all kept")
    rate_limit: int = setting(60, "rejected requests a minute from one address before answering 429")


@dataclass(frozen=True)
class AngorConfig:
    """``[angor]``: Angor projects over Nostr, with on-chain figures from an indexer."""

    enabled: bool = setting(False, "discover Angor projects")
    network: str = setting("Main", 'or "Angornet"')
    relays: tuple[str, ...] = setting((), "ws:// or wss:// URLs; empty: the Angor app's defaults for the network")
    indexer_url: str = setting("", "an http(s) URL; empty: the Angor app's default indexer for the network")
    # Where on-chain stats come from when the Angor indexer API is not served.
    esplora_url: str = setting("", "an esplora-style http(s) URL; empty: same as indexer_url")
    timeout: int = setting(10, "seconds per request; a relay gets 10 times this in all")

    @property
    def effective_relays(self) -> tuple[str, ...]:
        return self.relays or tuple(ANGOR_DEFAULT_RELAYS[self.network])

    @property
    def effective_indexer_url(self) -> str:
        return (self.indexer_url or ANGOR_DEFAULT_INDEXER[self.network]).rstrip("/")

    @property
    def effective_esplora_url(self) -> str:
        return (self.esplora_url or self.effective_indexer_url).rstrip("/")


@dataclass(frozen=True)
class UIConfig:
    """``[ui]``: the dashboard."""

    theme: str = setting("textual-dark", "any Textual theme; see Themes below")
    keymap: dict[str, str] = setting(
        factory=dict, doc="binding id = \"keys\"; see Keyboard below", example={"sync_now": "ctrl+r"}
    )
    bell: bool = setting(False, "ring the terminal bell when a contribution settles (whatever tab is open)")
    notify: bool = setting(True, "a toast when a contribution settles (the Payments tab watches, on any tab)")
    mouse: bool = setting(True, "false: leave the mouse to the terminal")
    chart: str = setting("braille", '"block" if your font lacks braille characters')
    page_size: int = setting(200, "invoice rows the table holds at once")


@dataclass(frozen=True)
class DbConfig:
    """``[store]``: where the store lives when no flag or environment variable says."""

    url: str = setting("", 'a team\'s PostgreSQL store, "postgresql://cftui@db.example:5432/cftui"; empty: the file')


@dataclass(frozen=True)
class Config:
    btcpay: tuple[StoreConfig, ...] = setting((), "one table per store; as many as you like", table=StoreConfig)
    sync: SyncConfig = setting(factory=SyncConfig, table=SyncConfig)
    webhooks: WebhooksConfig = setting(factory=WebhooksConfig, table=WebhooksConfig)
    angor: AngorConfig = setting(factory=AngorConfig, table=AngorConfig)
    ui: UIConfig = setting(factory=UIConfig, table=UIConfig)
    db: DbConfig = setting(factory=DbConfig, table=DbConfig, toml="store")  # the [store] table
    # Where this config came from (None for the built-in defaults).
    path: Path | None = None

    def store(self, name: str) -> StoreConfig:
        for store in self.btcpay:
            if store.name == name:
                return store
        known = ", ".join(s.name for s in self.btcpay) or "none configured"
        raise ConfigError(f"No store named '{name}' (stores: {known}).")

    @property
    def is_empty(self) -> bool:
        return not self.btcpay and not self.angor.enabled

    def secret_values(self) -> list[str]:
        """Every secret in use, wherever it comes from (inline, env var, file), for log redaction."""
        values: list[str] = []
        for store in self.btcpay:
            try:
                key = store.resolve_api_key()
            except ConfigError:  # an unreadable key file is reported where the key is used
                key = None
            values += [s.reveal() for s in (key, store.webhook_secret) if s]
        return values + location.secrets(self.db.url)


# ---------------------------------------------------------------- paths


@dataclass(frozen=True)
class Paths:
    config: Path
    db: Path  # the SQLite file (the default, or --db / CFTUI_DB)
    log_dir: Path
    db_url: str | None = None  # a store URL from --db-url / CFTUI_DB_URL (or [store] url, once resolved)
    db_given: bool = False  # --db or CFTUI_DB named the file: it beats [store] url

    @property
    def log_file(self) -> Path:
        return self.log_dir / "cftui.log"

    @property
    def store(self) -> str:
        """What ``open_database`` takes: the URL, else the SQLite file."""
        return self.db_url or str(self.db)

    @property
    def store_shown(self) -> str:
        return location.masked(self.store)

    def with_config(self, config: Config) -> Paths:
        """These paths with the config's ``[store] url`` applied (flags and environment beat it)."""
        if self.db_url or self.db_given or not config.db.url:
            return self
        return dataclasses.replace(self, db_url=config.db.url)


def resolve_paths(
    config: str | os.PathLike[str] | None = None,
    db: str | os.PathLike[str] | None = None,
    db_url: str | None = None,
) -> Paths:
    """Flags beat environment variables, which beat the XDG defaults (and ``[store] url``, see
    :meth:`Paths.with_config`). A URL beats a file at the same level; ``--db`` with ``--db-url`` is an
    error, and ``--db`` / ``CFTUI_DB`` given a URL take it as one."""
    if db and db_url:
        raise ConfigError("Both --db and --db-url are given; use one.")
    config_path = config or os.environ.get(ENV_CONFIG) or platformdirs.user_config_path(APP_NAME) / "config.toml"
    choices = [(db_url, "--db-url"), (db and os.fspath(db), "--db"), (os.environ.get(ENV_DB_URL), ENV_DB_URL),
               (os.environ.get(ENV_DB), ENV_DB)]  # fmt: skip
    chosen, where = next(((value, name) for value, name in choices if value), (None, None))
    url = None
    if chosen is not None and where is not None and (location.is_url(chosen) or where in ("--db-url", ENV_DB_URL)):
        problem = location.check(chosen, where=where)
        if problem:
            raise ConfigError(f"{problem}.")
        url = chosen if location.is_postgres(chosen) else None
        chosen = None if url else location.sqlite_path(chosen)
    db_path = chosen or platformdirs.user_data_path(APP_NAME) / "cftui.sqlite3"
    log_dir = os.environ.get(ENV_LOG_DIR) or platformdirs.user_log_path(APP_NAME)
    return Paths(
        Path(config_path).expanduser(),
        Path(db_path).expanduser(),
        Path(log_dir).expanduser(),
        db_url=url,
        db_given=where is not None,
    )


# ---------------------------------------------------------------- loading

_SECRET_KEYS = {"api_key", "webhook_secret"}


def load(path: Path, *, missing_ok: bool = True) -> Config:
    """Read and validate ``path``. A missing file gives the defaults (if allowed)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return Config(path=None)
        raise ConfigError(f"No config file at {path}.", hint="Run `cftui config init` to write one.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
    return from_dict(data, source=path)


def from_dict(data: dict[str, Any], *, source: Path | None = None) -> Config:
    where = str(source) if source else "config"
    known = {"btcpay", "sync", "webhooks", "angor", "ui", "store"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (expected one of: {', '.join(sorted(known))})."
                              + did_you_mean(key, known))
    stores_raw = data.get("btcpay", [])
    if not isinstance(stores_raw, list):
        raise ConfigError(f"{where}: 'btcpay' must be an array of tables ([[btcpay]]).")
    stores = tuple(_build(StoreConfig, item, f"btcpay[{i}]", where) for i, item in enumerate(stores_raw))
    names = [s.name for s in stores]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: two stores are named '{name}'; names must be unique.")
    config = Config(
        btcpay=stores,
        sync=_build(SyncConfig, data.get("sync", {}), "sync", where),
        webhooks=_build(WebhooksConfig, data.get("webhooks", {}), "webhooks", where),
        angor=_build(AngorConfig, data.get("angor", {}), "angor", where),
        ui=_build(UIConfig, data.get("ui", {}), "ui", where),
        db=_build(DbConfig, data.get("store", {}), "store", where),
        path=source,
    )
    _check_values(config, where)
    return config


def _build(cls: type, raw: Any, section: str, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: '{section}' must be a table.")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(
                f"{where}: unknown key '{section}.{key}' (expected one of: {', '.join(sorted(fields))})."
                + did_you_mean(key, fields)
            )
        values[key] = _coerce(value, hints[key], f"{section}.{key}", where)
    for name, f in fields.items():
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and name not in values:
            raise ConfigError(f"{where}: '{section}' needs '{name}'.")
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str, where: str) -> Any:
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is not None and type(None) in args:  # Optional[X]
        inner = next(a for a in args if a is not type(None))
        return _coerce(value, inner, key, where)
    if hint is Secret:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be a string.")
        return Secret(value)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: '{key}' must be an array of strings.")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: '{key}' must be a table of strings.")
        return dict(value)
    expected = {bool: "true or false", int: "an integer", str: "a string"}[hint]
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{where}: '{key}' must be {expected}, not {type(value).__name__} {value!r}.")
    return value


# (lowest, highest) allowed for every integer key. Upper bounds keep values
# usable (a sleep of 2**63 s overflows) and catch a slipped digit.
DAY = 86_400
RANGES: dict[str, tuple[int, int]] = {
    "btcpay.timeout": (1, 3600),
    "sync.interval": (1, 7 * DAY),
    "sync.page_size": (1, 1000),
    "sync.overlap": (0, 365 * DAY),
    "sync.concurrency": (1, 64),
    "sync.retry_budget": (0, DAY),
    "webhooks.port": (1, 65535),
    "webhooks.max_body_bytes": (1, 100 * 1024 * 1024),
    "webhooks.read_timeout": (1, 3600),
    "webhooks.rejected_retention": (0, 10_000_000),
    "webhooks.rate_limit": (1, 1_000_000),
    "angor.timeout": (1, 3600),
    "ui.page_size": (1, 10_000),
}
STORE_NAME_MAX = 64
# Characters a store name may not hold: it is a segment of the webhook URL /webhook/<name>.
_NOT_IN_NAMES = frozenset('/?#%\\"<>`^{}|[]')


def check_range(key: str, value: int, shown_key: str | None = None) -> str | None:
    """Why ``value`` is outside the range of ``key`` (see :data:`RANGES`), or None."""
    low, high = RANGES[key]
    if low <= value <= high:
        return None
    return f"'{shown_key or key}' must be between {low} and {high}, not {value}"


def store_name_problem(name: str) -> str | None:
    if not name:
        return "must not be empty"
    if len(name) > STORE_NAME_MAX:
        return f"must be at most {STORE_NAME_MAX} characters (it is {len(name)})"
    if any(not c.isprintable() or c.isspace() or c in _NOT_IN_NAMES for c in name):
        return (
            "may hold letters, digits and - _ . ~ but no spaces, control characters or "
            "/ ? # % \\ \" < > ` ^ { } | [ ] (it is part of the webhook URL /webhook/<name>)"
        )
    return None


def url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """Why ``url`` is not a usable URL with one of ``schemes``, or None."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        parsed = urlparse(url)
        port = parsed.port  # raises for a port out of range
    except ValueError as exc:
        return f"is not a valid URL ({exc}): {url!r}"
    if parsed.scheme not in schemes or not parsed.hostname:
        kind = "an http(s) URL" if schemes == ("http", "https") else f"a {wanted} URL"
        return f"must be {kind}, not {url!r}"
    if port == 0:
        return f"has port 0, which cannot be reached: {url!r}"
    return None


def _check_values(config: Config, where: str) -> None:
    for i, store in enumerate(config.btcpay):
        _check_store(store, f"btcpay[{i}]", where)
    sections = {"sync": config.sync, "webhooks": config.webhooks, "angor": config.angor, "ui": config.ui}
    for key in RANGES:
        section, name = key.split(".")
        if section in sections:
            problem = check_range(key, getattr(sections[section], name))
            if problem:
                raise ConfigError(f"{where}: {problem}.")
    if config.angor.network not in NETWORKS:
        raise ConfigError(
            f"{where}: 'angor.network' must be one of {', '.join(NETWORKS)}, not {config.angor.network!r}."
        )
    for relay in config.angor.relays:
        problem = url_problem(relay, ("ws", "wss"))
        if problem:
            raise ConfigError(f"{where}: each of 'angor.relays' {problem}.")
    for key in ("indexer_url", "esplora_url"):
        value = getattr(config.angor, key)
        problem = url_problem(value, ("http", "https")) if value else None
        if problem:
            raise ConfigError(f"{where}: 'angor.{key}' {problem}.")
    if config.ui.chart not in ("braille", "block"):
        raise ConfigError(f"{where}: 'ui.chart' must be \"braille\" or \"block\", not {config.ui.chart!r}.")
    problem = location.check(config.db.url, where="'store.url'") if config.db.url else None
    if problem:
        raise ConfigError(f"{where}: {problem}.")


def is_header_safe(value: str) -> bool:
    """Whether ``value`` can go into an HTTP header as it is: printable ASCII without spaces."""
    return value.isascii() and value.isprintable() and not any(c.isspace() for c in value)


def _check_secrets(store: StoreConfig, section: str, where: str) -> None:
    """Inline secrets are used exactly as written, so whitespace at an end is refused, not guessed away."""
    for key in ("api_key", "webhook_secret"):
        secret = getattr(store, key)
        value = secret.reveal() if secret else ""
        if value != value.strip():
            raise ConfigError(
                f"{where}: '{section}.{key}' has leading/trailing whitespace; remove it "
                "(keys and secrets from BTCPay have none, and cftui uses the value exactly as written)."
            )
        if key == "api_key" and value and not is_header_safe(value):
            raise ConfigError(f"{where}: '{section}.api_key' has spaces or control characters inside it.")


def _check_store(store: StoreConfig, section: str, where: str) -> None:
    problem = store_name_problem(store.name)
    if problem:
        raise ConfigError(f"{where}: '{section}.name' {problem}.")
    problem = url_problem(store.url, ("http", "https"))
    if problem:
        raise ConfigError(f"{where}: '{section}.url' {problem}.")
    if not store.store_id:
        raise ConfigError(f"{where}: '{section}.store_id' is empty.")
    given = [k for k in ("api_key", "api_key_env", "api_key_file") if getattr(store, k)]
    if len(given) > 1:
        raise ConfigError(f"{where}: store '{store.name}' sets {' and '.join(given)}; set only one.")
    _check_secrets(store, section, where)
    problem = check_range("btcpay.timeout", store.timeout, f"{section}.timeout")
    if problem:
        raise ConfigError(f"{where}: {problem}.")


# ---------------------------------------------------------------- writing


def to_dict(config: Config, *, reveal: bool) -> dict[str, Any]:
    """The config as TOML-ready data; secrets revealed only when writing the file."""

    def section(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None:
                continue
            if isinstance(value, Secret):
                value = value.reveal() if reveal else value.masked
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    data: dict[str, Any] = {}
    if config.btcpay:
        # An empty list (crowdfund_all_invoices) is left out rather than written into every store.
        data["btcpay"] = [{k: v for k, v in section(s).items() if v != []} for s in config.btcpay]
    for name in ("sync", "webhooks", "angor", "ui"):
        data[name] = section(getattr(config, name))
    data["store"] = section(config.db)
    if not reveal:
        data["store"]["url"] = location.masked(config.db.url)
    return data


def save(config: Config, path: Path) -> None:
    """Write ``config`` to ``path`` (mode 0600), keeping the user's comments.

    The file is written to a temporary sibling and renamed over the old one,
    so a crash never leaves half a config.
    """
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (OSError, tomlkit.exceptions.TOMLKitError):
        document = tomlkit.document()
    data = to_dict(config, reveal=True)
    defaults = to_dict(Config(), reveal=True)
    for key in list(document.keys()):
        if key not in data:
            del document[key]
    if "btcpay" in data:
        array = tomlkit.aot()
        for store in data["btcpay"]:
            array.append(tomlkit.item(store))
        document["btcpay"] = array
    for name in ("sync", "webhooks", "angor", "ui", "store"):
        values = data[name]
        if name not in document and values == defaults[name]:
            continue
        table = document.get(name)
        if table is None:
            table = tomlkit.table()
            document[name] = table
        for key in list(table.keys()):
            if key not in values:
                del table[key]
        for key, value in values.items():
            if table.get(key) != value:
                table[key] = value
    write_private(path, tomlkit.dumps(document))


def shared_config_warning(path: Path | None) -> str | None:
    """One sentence if the config file holding the secrets can be read by other users, else None."""
    mode = shared_mode(path) if path is not None else None
    if mode is None:
        return None
    return (
        f"{path} can be read by other users (mode {mode:o}), and it holds your API keys and webhook secrets: "
        f"run `chmod 600 {path}`."
    )


def masked_text(config: Config) -> str:
    """The config as TOML with every secret masked (for `cftui config show`)."""
    import tomlkit

    return tomlkit.dumps(to_dict(config, reveal=False))


def write_starter(path: Path) -> None:
    if path.exists():
        raise ConfigError(f"{path} already exists; not overwriting it.", hint="Edit it, or remove it first.")
    from cftui.config_reference import starter_toml  # generated from the fields above, so imported late

    write_private(path, starter_toml())


def with_store(config: Config, store: StoreConfig) -> Config:
    """A copy of ``config`` with ``store`` added or replaced (matched by name)."""
    stores = [s for s in config.btcpay if s.name != store.name]
    index = next((i for i, s in enumerate(config.btcpay) if s.name == store.name), len(stores))
    stores.insert(index, store)
    return dataclasses.replace(config, btcpay=tuple(stores))
