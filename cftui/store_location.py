"""Where the store lives: a SQLite file (the default) or a PostgreSQL URL.

A location is the text a user gives (``--db PATH``, ``--db-url URL``,
``CFTUI_DB_URL``, ``[store] url``): a ``postgresql://`` (or ``postgres://``)
URL names a PostgreSQL database, ``sqlite:////absolute/path`` (or a plain
path) a SQLite file. A URL may carry a password; it is a secret like an API key, so
everything shown (logs, screens, ``config show``, errors) goes through
:func:`masked`. libpq's own ``PGPASSWORD`` and ``PGPASSFILE`` (``~/.pgpass``)
work too, and keep the password out of the URL altogether.

Pure text handling: no driver is imported here, so the config can use it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
SQLITE_PREFIX = "sqlite:///"
MASK = "••••••••"

# user:password@ in any URL's authority (the password may itself hold ':').
_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:)(?P<password>[^@\s/]*)(?=@)")


def is_postgres(location: str) -> bool:
    return urlsplit(location).scheme in POSTGRES_SCHEMES if "://" in location else False


def is_url(location: str) -> bool:
    return is_postgres(location) or location.startswith(SQLITE_PREFIX)


def sqlite_path(location: str) -> str:
    """The file of a SQLite location: the path itself, or the rest of ``sqlite:///relative`` /
    ``sqlite:////absolute`` (the form SQLAlchemy and peewee's db_url use)."""
    return location[len(SQLITE_PREFIX) :] if location.startswith(SQLITE_PREFIX) else location


def secrets(location: str) -> list[str]:
    """The password a PostgreSQL URL carries, as written and decoded (for log redaction); [] without one."""
    if not is_postgres(location):
        return []
    written = urlsplit(location).password
    return list(dict.fromkeys([written, unquote(written)])) if written else []


def masked(text: str) -> str:
    """``text`` with the password of every PostgreSQL URL in it replaced by bullets."""
    return _PASSWORD.sub(lambda m: m["head"] + (MASK if m["password"] else ""), text)


def without_password(text: str) -> str:
    """``text`` with the ``:password`` of every URL in it left out (to show a URL a user may copy)."""
    return _PASSWORD.sub(lambda m: m["head"][:-1], text)


def check(location: str, *, where: str) -> str | None:
    """Why ``location`` is not a usable store URL (None when it is)."""
    if not is_url(location):
        return f"{where} must be a postgresql:// URL (or sqlite:///path), not {masked(location)!r}"
    if is_postgres(location):
        parts = urlsplit(location)
        if not parts.path.strip("/"):
            return f"{where} names no database: add it after the host, as in postgresql://cftui@db.example/cftui"
    elif not sqlite_path(location).strip("/"):
        return f"{where} names no file: sqlite:////path/to/cftui.sqlite3"
    return None
