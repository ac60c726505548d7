"""Settings read from the environment (and overridden by CLI flags).

| variable | meaning | default |
|---|---|---|
| ``PIPETRAIL_HOME`` | state directory: SQLite database, archive, keys, spool | ``~/.pipetrail`` |
| ``PIPETRAIL_DATABASE_URL`` | a ``postgresql://`` URL; unset means SQLite under the home | unset |
| ``PIPETRAIL_SAMPLE_INTERVAL`` | seconds between process samples of a run | ``1.0`` |
| ``PIPETRAIL_WORKSPACE`` | the workspace name recorded as ``recipientAccountId`` | ``local`` |
| ``PIPETRAIL_URL`` | a server: ``pipetrail run`` records through it (remote run) | unset |
| ``PIPETRAIL_TOKEN`` | the API token for ``PIPETRAIL_URL`` | unset |
| ``PIPETRAIL_LOG_FILTER`` | ``standard`` drops known Spark/JVM noise from storage | ``none`` |
| ``PIPETRAIL_REDACT_PATTERNS`` | extra redaction regexes, one per line | unset |
| ``PIPETRAIL_REDACT_FILE`` | a file of extra redaction regexes, one per line | unset |
| ``PIPETRAIL_TRAIL_SHARD`` | the hash chain this process appends to (one per writer) | ``main`` |
| ``PIPETRAIL_DELIVERY_INTERVAL`` | seconds between trail deliveries (1 to 3600) | ``60`` |
| ``PIPETRAIL_ARCHIVE`` | the archive: a directory or ``s3://bucket/prefix`` | ``HOME/archive`` |
| ``PIPETRAIL_DELIVER_ON_RUN_END`` | deliver the trail when an embedded run ends | ``true`` |
| ``PIPETRAIL_SIGNING_KEY`` | the Ed25519 key (PEM) signing digests | under the home |
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from pipetrail.model.errors import ConfigError, StoreError
from pipetrail.model.identity import DEFAULT_WORKSPACE

DEFAULT_HOME = Path("~/.pipetrail")
LOG_FILTERS = ("none", "standard")
MIN_SAMPLE_INTERVAL = 0.05
DEFAULT_SHARD = "main"
SHARD_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
DEFAULT_DELIVERY_INTERVAL = 60.0
MIN_DELIVERY_INTERVAL = 1.0
MAX_DELIVERY_INTERVAL = 3600.0
PRECHECK_TIMEOUT = 3.0


def check_database_scheme(scheme: str) -> None:
    """Refuse a database URL scheme Pipetrail has no backend for."""
    backend = scheme.split("+", 1)[0]
    if backend not in {"postgresql", "postgres", "sqlite"}:
        raise ConfigError(
            f"unsupported database {backend!r} in PIPETRAIL_DATABASE_URL: use postgresql://… "
            "or leave it unset for the embedded SQLite store"
        )


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: DEFAULT_HOME.expanduser())
    database_url: str | None = None
    sample_interval: float = 1.0
    workspace: str = DEFAULT_WORKSPACE
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    log_filter: str = "none"
    redact_patterns: tuple[str, ...] = ()
    trail_shard: str = DEFAULT_SHARD
    delivery_interval: float = DEFAULT_DELIVERY_INTERVAL
    signing_key: Path | None = None
    archive: str | None = None
    deliver_on_run_end: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("PIPETRAIL_HOME") or DEFAULT_HOME).expanduser()
        interval_text = env.get("PIPETRAIL_SAMPLE_INTERVAL", "1.0")
        try:
            interval = float(interval_text)
        except ValueError:
            raise ConfigError(
                f"PIPETRAIL_SAMPLE_INTERVAL must be a number of seconds, not {interval_text!r}"
            ) from None
        settings = cls(
            home=home,
            database_url=env.get("PIPETRAIL_DATABASE_URL") or None,
            sample_interval=interval,
            workspace=env.get("PIPETRAIL_WORKSPACE") or DEFAULT_WORKSPACE,
            url=env.get("PIPETRAIL_URL") or None,
            token=env.get("PIPETRAIL_TOKEN") or None,
            log_filter=env.get("PIPETRAIL_LOG_FILTER") or "none",
            redact_patterns=_redact_patterns(env),
            trail_shard=env.get("PIPETRAIL_TRAIL_SHARD") or DEFAULT_SHARD,
            delivery_interval=env_seconds(env, "PIPETRAIL_DELIVERY_INTERVAL",
                                          DEFAULT_DELIVERY_INTERVAL),
            signing_key=Path(env["PIPETRAIL_SIGNING_KEY"]).expanduser()
            if env.get("PIPETRAIL_SIGNING_KEY") else None,
            archive=(env.get("PIPETRAIL_ARCHIVE") or "").strip() or None,
            deliver_on_run_end=_flag(env, "PIPETRAIL_DELIVER_ON_RUN_END", True),
        )
        settings.check()
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        updated = replace(self, **clean)  # type: ignore[arg-type]
        updated.check()
        return updated

    def check(self) -> None:
        if not SHARD_NAME.fullmatch(self.trail_shard):
            raise ConfigError("PIPETRAIL_TRAIL_SHARD must be 1 to 64 letters, digits, '.', '_' "
                              f"or '-', not {self.trail_shard!r}")
        if not MIN_DELIVERY_INTERVAL <= self.delivery_interval <= MAX_DELIVERY_INTERVAL:
            raise ConfigError(
                f"PIPETRAIL_DELIVERY_INTERVAL must be between {MIN_DELIVERY_INTERVAL:g} and "
                f"{MAX_DELIVERY_INTERVAL:g} seconds, not {self.delivery_interval:g}")
        if self.log_filter not in LOG_FILTERS:
            raise ConfigError(f"PIPETRAIL_LOG_FILTER must be one of {', '.join(LOG_FILTERS)}, "
                              f"not {self.log_filter!r}")
        if self.sample_interval < MIN_SAMPLE_INTERVAL:
            raise ConfigError(
                f"the sample interval must be at least {MIN_SAMPLE_INTERVAL} s, "
                f"not {self.sample_interval}"
            )

    def ensure_home(self) -> Path:
        """Create the home directory if needed and check it is writable."""
        home = self.home
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create PIPETRAIL_HOME {home}: {exc.strerror}") from None
        if not home.is_dir():
            raise ConfigError(f"PIPETRAIL_HOME {home} is not a directory")
        if not os.access(home, os.R_OK | os.W_OK | os.X_OK):
            raise ConfigError(f"PIPETRAIL_HOME {home} is not readable and writable by this user")
        return home

    def precheck(self) -> None:
        """Cheap checks that the store can be reached, without opening it: the home
        directory for SQLite, a TCP connection to the server for PostgreSQL."""
        if self.database_url is None:
            self.ensure_home()
            return
        parsed = urlsplit(self.database_url)
        check_database_scheme(parsed.scheme)
        if parsed.scheme.startswith("sqlite"):
            return
        host = parsed.hostname or "localhost"
        if host.startswith("/"):
            return
        try:
            port = parsed.port or 5432
        except ValueError:
            raise ConfigError("PIPETRAIL_DATABASE_URL has an invalid port") from None
        try:
            socket.create_connection((host, port), timeout=PRECHECK_TIMEOUT).close()
        except OSError as exc:
            raise StoreError(
                f"cannot reach the PostgreSQL server at {host}:{port}: {exc.strerror or exc}"
            ) from None

    @property
    def signing_key_path(self) -> Path:
        """The private key that signs the trail's digests."""
        return self.signing_key or self.home / "keys" / "trail-signing.pem"

    @property
    def spark_events_dir(self) -> Path:
        """Where PySpark jobs run by ``pipetrail run`` write their event logs."""
        return self.home / "spark-events"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "pipetrail.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = (env.get(name) or "").strip().lower()
    if not text:
        return default
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def env_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds from ``env[name]`` (``default`` when unset or blank)."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {text!r}") from None


def _redact_patterns(env: Mapping[str, str]) -> tuple[str, ...]:
    """Custom redaction patterns: the lines of PIPETRAIL_REDACT_PATTERNS and of the file
    PIPETRAIL_REDACT_FILE (blank lines and lines starting with ``#`` skipped)."""
    texts = [env.get("PIPETRAIL_REDACT_PATTERNS") or ""]
    path = env.get("PIPETRAIL_REDACT_FILE")
    if path:
        try:
            texts.append(Path(path).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read PIPETRAIL_REDACT_FILE {path}: {exc}") from None
    patterns = []
    for text in texts:
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                patterns.append(stripped)
    return tuple(patterns)
