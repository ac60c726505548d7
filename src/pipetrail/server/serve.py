"""Running the API with uvicorn (``pipetrail server``)."""

from __future__ import annotations

import logging
import os

from pipetrail.config import Settings
from pipetrail.model.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


def lease_seconds(environ: dict[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    text = env.get("PIPETRAIL_LEASE_SECONDS", "15")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"PIPETRAIL_LEASE_SECONDS must be seconds, not {text!r}") from None
    if not 1 <= value <= 3600:
        raise ConfigError("PIPETRAIL_LEASE_SECONDS must be between 1 and 3600")
    return value


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT/SIGTERM; the store is opened (and migrated) first, so a
    store that cannot be reached fails the start at once."""
    import uvicorn

    from pipetrail.actions.background import retention_interval
    from pipetrail.server.app import create_app
    from pipetrail.store import open_store

    seconds = lease_seconds()
    retention_interval()  # a bad value fails the start, before the store is opened
    store = open_store(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    try:
        app = create_app(settings, store=store, lease_seconds=seconds)
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True,
                    forwarded_allow_ips=os.environ.get("PIPETRAIL_FORWARDED_ALLOW_IPS",
                                                       "127.0.0.1"),
                    timeout_graceful_shutdown=5, server_header=False)
    finally:
        store.close()
