"""Command targets: a local program gets the event as JSON on its standard input.

The command is a list of arguments (no shell); it runs in its own process group with
the deliverer's environment minus secrets (``PIPETRAIL_SMTP_PASSWORD``), plus
``PIPETRAIL_EVENT_ID``, ``PIPETRAIL_DELIVERY_ID`` and ``PIPETRAIL_ATTEMPT``. Exit status
0 is delivered; any other status is retried; a command that cannot be started goes to
the dead letters at once. A command still running at the target's timeout is killed
(with its process group) and the attempt fails with ``TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from pipetrail.events.settings import SECRET_VARIABLES
from pipetrail.events.targets.kind import DeliveryError, SendContext
from pipetrail.model.errors import ValidationError

MAX_ARGS = 100
MAX_OUTPUT_SHOWN = 500


class Command:
    name = "command"
    secret_label: str | None = None
    default_timeout = 30.0

    def new_secret(self) -> str | None:
        return None

    def check(self, config: Mapping[str, Any], secret: str | None
              ) -> tuple[dict[str, Any], str | None]:
        extra = set(config) - {"command"}
        if extra:
            raise ValidationError(f"a command target takes no {', '.join(sorted(extra))}")
        argv = config.get("command")
        if isinstance(argv, str):
            try:
                argv = shlex.split(argv)
            except ValueError as exc:
                raise ValidationError(f"cannot split the command: {exc}") from None
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValidationError("a command target needs a command (a program and its "
                                  "arguments)")
        if len(argv) > MAX_ARGS or any("\0" in a for a in argv):
            raise ValidationError(f"a command has at most {MAX_ARGS} arguments, without NUL")
        if secret is not None:
            raise ValidationError("a command target has no secret")
        return {"command": argv}, None

    def describe(self, config: Mapping[str, Any]) -> str:
        return shlex.join(config["command"])

    def send(self, config: Mapping[str, Any], secret: str | None, event_text: str,
             ctx: SendContext) -> None:
        argv = list(config["command"])
        env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
        env.update({"PIPETRAIL_EVENT_ID": ctx.event_id,
                    "PIPETRAIL_DELIVERY_ID": ctx.delivery_id,
                    "PIPETRAIL_ATTEMPT": str(ctx.attempt)})
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, start_new_session=True)
        except OSError as exc:
            raise DeliveryError("NO_RESOURCE", f"cannot start {argv[0]!r}: "
                                f"{exc.strerror or exc}", retriable=False) from None
        try:
            _out, err = proc.communicate(event_text.encode(), timeout=ctx.timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise DeliveryError("TIMEOUT", f"command {argv[0]!r} ran longer than "
                                f"{ctx.timeout:g} s and was killed") from None
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip()[-MAX_OUTPUT_SHOWN:]
            status = (f"signal {-proc.returncode}" if proc.returncode < 0
                      else f"status {proc.returncode}")
            raise DeliveryError("COMMAND_FAILED", f"command {argv[0]!r} exited with "
                                f"{status}" + (f": {tail}" if tail else ""))


COMMAND = Command()
