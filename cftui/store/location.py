"""Where the store lives: a SQLite file (the default) or a PostgreSQL URL.

A location is the text a user gives (``--db PATH``, ``--db-url URL``,
``CFTUI_DB_URL``, ``[store] url``): a ``postgresql://`` (or ``postgres://``)
URL names a PostgreSQL database, ``sqlite:///path`` or a plain path a SQLite
file. A URL may carry a password; it is a secret like an API key, so
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

# user:password@ in a URL's authority (the password may itself hold ':').
_PASSWORD = re.compile(r"(?P<head>\b(?:postgresql|postgres)://[^/@:\s]*:)(?P<password>[^@\s]*)(?=@)")


def is_postgres(location: str) -> bool:
    return urlsplit(location).scheme in POSTGRES_SCHEMES if "://" in location else False


def is_url(location: str) -> bool:
    return is_postgres(location) or location.startswith(SQLITE_PREFIX)


def sqlite_path(location: str) -> str:
    """The file of a SQLite location (``sqlite:///path`` or the path itself)."""
    return location[len(SQLITE_PREFIX) - 1 :] if location.startswith(SQLITE_PREFIX) else location


def password(location: str) -> str | None:
    """The password a PostgreSQL URL carries, decoded; None without one."""
    if not is_postgres(location):
        return None
    secret = urlsplit(location).password
    return unquote(secret) if secret else None


def masked(text: str) -> str:
    """``text`` with the password of every PostgreSQL URL in it replaced by bullets."""
    return _PASSWORD.sub(lambda m: m["head"] + (MASK if m["password"] else ""), text)


def check(location: str, *, where: str) -> str | None:
    """Why ``location`` is not a usable store URL (None when it is)."""
    if not is_url(location):
        return f"{where} must be a postgresql:// URL (or sqlite:///path), not {masked(location)!r}"
    if is_postgres(location):
        parts = urlsplit(location)
        if not parts.path.strip("/"):
            return f"{where} names no database: add it after the host, as in postgresql://cftui@db.example/cftui"
    elif not sqlite_path(location).strip("/"):
        return f"{where} names no file: sqlite:///path/to/cftui.sqlite3"
    return None
