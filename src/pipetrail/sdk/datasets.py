"""Dataset URIs: one spelling per dataset, so that a lookup finds every access to it.

* A local path (``str`` or ``os.PathLike``, relative or absolute, ``~`` expanded) becomes
  ``file://`` + its absolute, normalised path (``..`` removed, symlinks kept, nothing
  percent-encoded): ``data/in.csv`` → ``file:///home/etl/data/in.csv``. Spark's
  ``file:/x`` and ``file://localhost/x`` spellings become ``file:///x`` too.
* A URI with a scheme keeps it; ``s3a://`` and ``s3n://`` become ``s3://``; the scheme
  and host are lower-cased. Passwords (with their user name), query strings and
  fragments are dropped (they hold credentials or presigned tokens, not the dataset's
  name), and so is a trailing ``/``. A user name without a password stays (it is the
  container in ``abfss://container@account.dfs.core.windows.net/…``).
* SQL tables: ``sql://<dialect>/<location>/<table>`` where the dialect is the database
  kind (``sqlite``, ``postgresql``, ``mysql`` …), the location is ``host:port/database``
  for a server or the database file's absolute path for SQLite (``memory`` for an
  in-memory one), and the table is ``schema.table`` or ``table`` as the job named it.
  Spark catalog tables: ``sql://spark/<catalog>/<database>.<table>``.
  A query whose table cannot be named for sure is recorded against the database,
  ``sql://<dialect>/<location>``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_ALIASES = {"s3a": "s3", "s3n": "s3"}
# Sizes of a directory's files are summed only up to this many entries.
MAX_SIZED_FILES = 10_000


def is_uri(text: str) -> bool:
    """True for ``scheme:...`` text (a one-letter scheme is a Windows drive, not a URI)."""
    match = _SCHEME.match(text)
    return match is not None and len(match.group(1)) > 1


def path_uri(path: str | os.PathLike[str]) -> str:
    """``file://`` URI of a local path."""
    text = os.fspath(path)
    absolute = os.path.normpath(os.path.abspath(os.path.expanduser(text)))
    if absolute.startswith("//"):  # POSIX keeps a leading double slash
        absolute = "/" + absolute.lstrip("/")
    return "file://" + absolute


def dataset_uri(target: str | os.PathLike[str]) -> str:
    """The canonical URI of a path or URI (see the module docstring)."""
    text = os.fspath(target)
    if not is_uri(text):
        return path_uri(text)
    try:
        parts = urlsplit(text)
        hostname, port = parts.hostname or "", parts.port
    except ValueError:  # a malformed authority ("s3://[x"): keep it as written
        return text.split("?", 1)[0].split("#", 1)[0]
    scheme = parts.scheme.lower()
    scheme = _ALIASES.get(scheme, scheme)
    if scheme == "file":
        path = parts.path or "/"
        if hostname and hostname != "localhost":
            return f"file://{hostname}{path}".rstrip("/")
        return path_uri(path)
    host = hostname
    if port is not None:
        host = f"{host}:{port}"
    if parts.username and parts.password is None:  # abfss://container@account…
        host = f"{parts.username}@{host}"
    if not parts.netloc:  # scheme:opaque (e.g. memory:x)
        return f"{scheme}:{parts.path}"
    uri = f"{scheme}://{host}{parts.path}"
    return uri.rstrip("/") if host else uri


def local_path(uri: str) -> str | None:
    """The local path of a ``file:///`` URI, else None."""
    return uri[len("file://"):] if uri.startswith("file:///") else None


def size_of(uri: str) -> int | None:
    """Bytes of a local file, or of the data files in a local directory (names starting
    with ``.`` or ``_`` are Spark/Hadoop bookkeeping and left out); None if unknown."""
    path = local_path(uri)
    if path is None:
        return None
    try:
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode):
            return info.st_size
        if not stat.S_ISDIR(info.st_mode):
            return None
        total = seen = 0
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_")) or "=" in d]
            for name in files:
                seen += 1
                if seen > MAX_SIZED_FILES:
                    return None
                if not name.startswith((".", "_")):
                    total += os.path.getsize(os.path.join(folder, name))
        return total
    except OSError:
        return None


def file_target(target: Any) -> str | None:
    """The URI of what a reader or writer was given, or None when it is not a dataset
    (an in-memory buffer, a string of data, None)."""
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if isinstance(text, bytes) or not text or "\n" in text:
            return None
        return dataset_uri(text)
    name = getattr(target, "name", None)  # an open file
    if isinstance(name, (str, os.PathLike)) and (hasattr(target, "read")
                                                 or hasattr(target, "write")):
        text = os.fspath(name)
        if isinstance(text, str) and text and not text.startswith("<"):
            return dataset_uri(text)
    return None


def file_targets(target: Any) -> list[str]:
    """URIs of one path or of a list of paths (Polars and Spark accept lists)."""
    if isinstance(target, (list, tuple)):
        uris = (file_target(item) for item in target)
        return [uri for uri in uris if uri is not None]
    uri = file_target(target)
    return [uri] if uri is not None else []


def sizes(uris: Iterable[str]) -> int | None:
    """Total bytes of several datasets, None if any is unknown."""
    total = 0
    for uri in uris:
        size = size_of(uri)
        if size is None:
            return None
        total += size
    return total


# -- SQL -------------------------------------------------------------------------------

_DIALECTS = {"postgres": "postgresql", "psycopg": "postgresql", "psycopg2": "postgresql",
             "pg8000": "postgresql", "sqlite3": "sqlite", "pymysql": "mysql",
             "mysqldb": "mysql", "mariadb": "mysql", "duckdb": "duckdb",
             "sqlserver": "mssql", "pyodbc": "mssql", "oracledb": "oracle"}


def dialect_name(name: str) -> str:
    base = name.lower().split("+", 1)[0]
    return _DIALECTS.get(base, base)


def sql_uri(dialect: str, location: str, table: str | None = None) -> str:
    """``sql://<dialect>/<location>[/<table>]`` (see the module docstring)."""
    uri = f"sql://{dialect_name(dialect)}/{location.strip('/') or 'unknown'}"
    return f"{uri}/{table_name(table)}" if table else uri


def table_name(table: str) -> str:
    """A table name without quoting: ``"public"."Orders"`` → ``public.Orders``."""
    parts = re.findall(r'"((?:[^"]|"")*)"|`([^`]*)`|\[([^\]]*)\]|([^.]+)', table.strip())
    names = [next(p for p in groups if p) if any(groups) else "" for groups in parts]
    return ".".join(n.replace('""', '"').strip() for n in names if n.strip())


def server_location(host: str | None, port: int | str | None, database: str | None) -> str:
    where = host or "localhost"
    if port:
        where = f"{where}:{port}"
    return f"{where}/{database}" if database else where


def sqlite_location(database: str | None) -> str:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return "memory"
    if database.startswith("file:"):
        database = database[len("file:"):].split("?", 1)[0]
    return os.path.normpath(os.path.abspath(os.path.expanduser(database))).lstrip("/")


def url_location(url: str) -> tuple[str, str]:
    """Dialect and location of a database URL (``postgresql://u:p@h:5432/db``,
    ``sqlite:///x.db``); credentials and parameters are dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed authority
        return dialect_name(url.split(":", 1)[0]), "unknown"
    dialect = dialect_name(parts.scheme)
    if dialect == "sqlite":
        path = parts.path
        if parts.netloc == "" and path.startswith("/"):
            path = path[1:]  # sqlite:///rel.db is relative, sqlite:////abs.db absolute
        return dialect, sqlite_location(path or None)
    try:
        port = parts.port
    except ValueError:
        port = None
    return dialect, server_location(parts.hostname, port, parts.path.strip("/") or None)


def jdbc_location(url: str) -> tuple[str, str]:
    """Dialect and location of a JDBC URL: ``jdbc:postgresql://h:5432/db?user=…`` →
    (``postgresql``, ``h:5432/db``); ``jdbc:sqlite:/data/x.db`` → (``sqlite``,
    ``data/x.db``)."""
    body = url[len("jdbc:"):] if url.lower().startswith("jdbc:") else url
    kind, _, rest = body.partition(":")
    dialect = dialect_name(kind)
    if dialect == "sqlite":
        return dialect, sqlite_location(rest.split("?", 1)[0] or None)
    if rest.startswith("//"):
        _, location = url_location(f"{kind}:{rest.split(';', 1)[0]}")
        return dialect, location
    return dialect, rest.split("?", 1)[0].split(";", 1)[0] or "unknown"


_SIMPLE_SELECT = re.compile(
    r"""^\s*select\s+(?:(?!\bselect\b|\bfrom\b).)+?\s+from\s+
        (?P<table>(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)
                  (?:\s*\.\s*(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*))?)
        (?:\s+(?:as\s+)?(?!where\b|group\b|order\b|limit\b|having\b|window\b|offset\b
                          |fetch\b|union\b|except\b|intersect\b|join\b|inner\b|left\b
                          |right\b|full\b|cross\b|natural\b)[A-Za-z_]\w*)?
        (?P<rest>\s.*)?\s*;?\s*$""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_MORE_TABLES = re.compile(r"\b(join|from|select|union|except|intersect)\b", re.IGNORECASE)


def query_table(query: str) -> str | None:
    """The one table a simple ``SELECT … FROM table [WHERE …]`` reads, else None (joins,
    subqueries, several tables, or anything else: the caller records the database)."""
    match = _SIMPLE_SELECT.match(query)
    if match is None:
        return None
    rest = re.sub(r"'(?:[^']|'')*'", "''", match.group("rest") or "")
    if rest.lstrip().startswith(",") or _MORE_TABLES.search(rest):
        return None
    return table_name(match.group("table"))
