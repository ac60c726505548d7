"""Entry point of the ``pipetrail`` command.

Exit codes: 0 success; 1 an unexpected failure; 2 bad usage or invalid input;
3 configuration or store unavailable; 4 not found; 5 access denied. ``pipetrail run``
passes the job's own exit code through (see ``docs/cli.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipetrail import __version__
from pipetrail.cli.app import App
from pipetrail.config import Settings
from pipetrail.model.errors import PipetrailError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pipetrail")
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="State directory (overrides PIPETRAIL_HOME; default ~/.pipetrail).")
@click.option("--database-url", default=None, metavar="URL",
              help="postgresql://… URL (overrides PIPETRAIL_DATABASE_URL; "
                   "default: SQLite under the home).")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, database_url: str | None) -> None:
    """Pipetrail: audit trail, live logs, metrics and insights for ETL jobs."""
    settings = Settings.from_env().with_overrides(home=home, database_url=database_url)
    app = App(settings)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from pipetrail.cli import (
        access,
        log_groups,
        logs,
        logs_lang,
        metric_filters,
        metrics,
        run,
        runs,
        trail,
    )

    for module in (run, runs, logs, metrics, trail, access):
        for command in module.COMMANDS:
            cli.add_command(command)
    for logs_module in (logs_lang, log_groups, metric_filters):
        for command in logs_module.LOGS_SUBCOMMANDS:
            logs.logs.add_command(command)


def main(argv: list[str] | None = None) -> None:
    _register()
    try:
        result = cli.main(args=argv, prog_name="pipetrail", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PipetrailError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(result if isinstance(result, int) else 0)
