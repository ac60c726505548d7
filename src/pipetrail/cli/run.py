"""``pipetrail run``: run a Python script as a monitored job run."""

from __future__ import annotations

from pathlib import Path

import click

from pipetrail.cli.app import App, pass_app
from pipetrail.model.clock import duration_text
from pipetrail.model.runs import JobRun


@click.command("run")
@click.argument("script", type=click.Path(path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--job", "job_name", metavar="NAME", help="Job name (default: the script's stem).")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Stop the job after this many seconds; the run ends as TIMEOUT (exit 124).")
@click.option("--sample-interval", type=float, metavar="SECONDS",
              help="Seconds between process samples (default PIPETRAIL_SAMPLE_INTERVAL or 1).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the run summary line.")
@click.option("--quiet-logs", is_flag=True,
              help="Do not store known Spark/YARN/JVM noise (heartbeats, progress bars, "
                   "start-up banners); the terminal still shows everything. Same as "
                   "PIPETRAIL_LOG_FILTER=standard.")
@pass_app
def run_command(app: App, script: Path, args: tuple[str, ...], job_name: str | None,
                timeout: float | None, sample_interval: float | None, quiet: bool,
                quiet_logs: bool) -> int:
    """Run SCRIPT as a monitored job run; ARGS (after --) go to the script.

    The job's output appears as usual and is recorded line by line in the log streams
    /pipetrail/jobs/output and /pipetrail/jobs/error (stream = run id), with secrets
    masked before they are stored; its process tree
    is sampled into metrics; the run and every action are recorded in the trail.
    A PySpark job gets its event log written under PIPETRAIL_HOME/spark-events and its
    progress polled into Glue-named metrics; a failed run gets insights (runs show).
    Exits with the job's exit code; 124 on timeout; 128+N when a signal N ended it.

    With PIPETRAIL_URL and PIPETRAIL_TOKEN set, the run is recorded through that server:
    records wait in a spool under PIPETRAIL_HOME/spool until the server has them.
    """
    # Spawn the job before the heavy imports and the store are loaded: the job starts up
    # while the runner opens the store (see pipetrail.runner.launch).
    from pipetrail.model.errors import PipetrailError
    from pipetrail.runner.launch import RunOptions
    from pipetrail.runner.prepare import prepare_job_run

    settings = app.settings.with_overrides(sample_interval=sample_interval,
                                           log_filter="standard" if quiet_logs else None)
    app.settings = settings
    options = RunOptions(script=script, arguments=list(args), timeout=timeout,
                         sample_interval=settings.sample_interval,
                         spark_events_dir=settings.spark_events_dir)
    remote = settings.url is not None
    try:
        prepared = prepare_job_run(options, job_name)
        if settings.redact_patterns:
            from pipetrail.logs.redaction.custom import compile_patterns

            compile_patterns(settings.redact_patterns)
    except PipetrailError as exc:
        if not remote:
            from pipetrail.actions.jobs import reject_job_run

            reject_job_run(app.context(), options, job_name, exc)
        raise

    def announce(run: JobRun) -> None:
        if not quiet and run.state.terminal:
            took = duration_text(run.execution_time or 0.0)
            where = f"pipetrail runs show {run.run_id[:12]}"
            if remote:
                where += f" (on {settings.url})"
            click.echo(
                f"pipetrail: run {run.run_id} {run.state.value} in {took} "
                f"(exit {run.exit_code}); see: {where}",
                err=True,
            )

    from pipetrail.model.identity import local_identity
    from pipetrail.runner.launch import Launch

    if remote:
        # Records go to the spool and from there to the server; nothing waits for it.
        from pipetrail.agent.remote import check_remote, run_remotely

        check_remote(settings)
        launch = Launch(prepared.run_id, prepared.job_name, options,
                        identity=local_identity(settings.workspace))
        run = run_remotely(settings, prepared, launch, on_state=announce)
        return run.exit_code if run.exit_code is not None else 1

    settings.precheck()
    # The caller of `pipetrail run` is the local user (as in app.context()); the job's
    # data events are recorded as theirs.
    launch = Launch(prepared.run_id, prepared.job_name, options,
                    identity=local_identity(settings.workspace))
    try:
        ctx = app.context()
    except BaseException:
        launch.abort()
        click.echo("pipetrail: the job was stopped: its run could not be recorded", err=True)
        raise

    from pipetrail.actions.jobs import start_job_run

    run = start_job_run(ctx, prepared, launch, on_state=announce)
    return run.exit_code if run.exit_code is not None else 1


COMMANDS: list[click.Command] = [run_command]
