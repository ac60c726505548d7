"""``pipetrail server``: the HTTP API."""

from __future__ import annotations

import click

from pipetrail.cli.app import App, pass_app


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True,
              help="TCP port to listen on.")
@pass_app
def server_command(app: App, host: str, port: int) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json) on the store of this home or
    PIPETRAIL_DATABASE_URL, until Ctrl-C or SIGTERM.

    Every route needs an API token (pipetrail access create-token). Several servers may
    share one PostgreSQL database; one of them runs the background evaluators.
    """
    from pipetrail.server.serve import serve

    serve(app.settings, host, port)


COMMANDS: list[click.Command] = [server_command]
