"""Checks a run's script and options before anything is spawned or stored.

Light on purpose (no store imports): ``pipetrail run`` calls it before spawning the job.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipetrail.model.errors import ValidationError
from pipetrail.model.runs import new_run_id
from pipetrail.runner.launch import RunOptions

MAX_JOB_NAME = 255
MAX_SCRIPT_BYTES = 10 * 1024 * 1024


def check_script(script: Path) -> bytes:
    """The script's content, or a ValidationError saying why it cannot run."""
    if not script.exists():
        raise ValidationError(f"script not found: {script}")
    if not script.is_file():
        raise ValidationError(f"not a file: {script}")
    if not os.access(script, os.R_OK):
        raise ValidationError(f"script is not readable: {script}")
    if script.stat().st_size > MAX_SCRIPT_BYTES:
        raise ValidationError(f"script is larger than {MAX_SCRIPT_BYTES} bytes: {script}")
    return script.read_bytes()


def check_job_name(name: str) -> str:
    if not name or len(name) > MAX_JOB_NAME or any(c in name for c in "\n\r\t/"):
        raise ValidationError(
            f"job name must be 1-{MAX_JOB_NAME} characters without '/', tabs or newlines"
        )
    return name


@dataclass
class PreparedRun:
    """A run whose script and options passed the checks; nothing stored yet."""

    options: RunOptions
    job_name: str
    content: bytes
    code_hash: str
    run_id: str = field(default_factory=new_run_id)

    @property
    def params(self) -> dict[str, object]:
        return start_params(self.options, self.job_name)


def start_params(options: RunOptions, job_name: str | None) -> dict[str, object]:
    return {"jobName": job_name or options.script.stem, "scriptLocation": str(options.script),
            "arguments": options.arguments, "timeout": options.timeout}


def prepare_job_run(options: RunOptions, job_name: str | None = None) -> PreparedRun:
    """Check a run's script and options without touching the store."""
    name = check_job_name(job_name or options.script.stem)
    content = check_script(options.script)
    if options.timeout is not None and options.timeout <= 0:
        raise ValidationError("timeout must be a positive number of seconds")
    return PreparedRun(options=options, job_name=name, content=content,
                       code_hash=hashlib.sha256(content).hexdigest())


