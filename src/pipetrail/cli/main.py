"""Entry point of the ``pipetrail`` command.

Exit codes: 0 success; 1 an unexpected failure; 2 bad usage or invalid input;
3 configuration or store unavailable; 4 not found; 5 access denied. ``pipetrail run``
passes the job's own exit code through (see ``docs/cli.md``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from pathlib import Path

import click

from pipetrail import __version__
from pipetrail.cli.app import App
from pipetrail.config import Settings
from pipetrail.model.errors import PipetrailError

# Each top-level command and the module defining it (in its ``COMMANDS`` list). Modules
# are imported only when their command runs, so ``pipetrail run`` starts the job
# before anything heavy is loaded; ``--help`` imports them all to list them.
COMMAND_MODULES = {
    "run": "pipetrail.cli.run",
    "runs": "pipetrail.cli.runs",
    "jobs": "pipetrail.cli.runs",
    "logs": "pipetrail.cli.logs",
    "metrics": "pipetrail.cli.metrics",
    "alarms": "pipetrail.cli.alarms",
    "events": "pipetrail.cli.events",
    "trail": "pipetrail.cli.trail",
    "access": "pipetrail.cli.access",
    "spark": "pipetrail.cli.spark",
    "server": "pipetrail.cli.server",
    "agent": "pipetrail.cli.agent",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(COMMAND_MODULES[cmd_name])
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its code (``SystemExit``)."""
    sys.exit(run_cli(argv))


def entry() -> None:
    """The ``pipetrail`` executable: run, flush, and exit at once.

    Exits through ``os._exit`` once output is flushed and the store closed (everything
    is stored by then): skipping the interpreter's teardown saves ~0.1 s per command.
    Programs calling the CLI in-process use :func:`main` or :func:`run_cli` instead.
    """
    code = run_cli(sys.argv[1:])
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit code instead of exiting."""
    try:
        result = cli.main(args=argv, prog_name="pipetrail", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except PipetrailError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return result if isinstance(result, int) else 0
