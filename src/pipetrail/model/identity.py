"""Who performs an action: the ``userIdentity`` of an audit event."""

from __future__ import annotations

import getpass
import os
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

from pipetrail import __version__

DEFAULT_WORKSPACE = "local"
# The resource type in a principal's ARN, by identity type.
ARN_KINDS = {"LocalUser": "user", "User": "user", "Role": "role",
             "AssumedRole": "assumed-role", "ServiceAccount": "service-account"}


@dataclass(frozen=True)
class Identity:
    """A caller, shaped like CloudTrail's ``userIdentity``."""

    type: str
    principal_id: str
    user_name: str
    workspace: str = DEFAULT_WORKSPACE
    session: dict[str, Any] = field(default_factory=dict)
    #: The API token the call was made with (CloudTrail's ``accessKeyId``).
    access_key_id: str | None = None

    @property
    def arn(self) -> str:
        kind = ARN_KINDS.get(self.type, self.type.lower())
        return f"arn:pipetrail:iam:{self.workspace}:{kind}/{self.user_name}"

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "type": self.type,
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.workspace,
            "userName": self.user_name,
        }
        if self.access_key_id:
            record["accessKeyId"] = self.access_key_id
        if self.session:
            record["sessionContext"] = dict(self.session)
        return record


def local_identity(workspace: str = DEFAULT_WORKSPACE) -> Identity:
    """The operating-system user running this process (embedded mode)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = f"uid-{os.getuid()}"
    return Identity(type="LocalUser", principal_id=str(os.getuid()), user_name=name,
                    workspace=workspace)


def user_agent(component: str = "cli") -> str:
    """``pipetrail-cli/0.1.0 Python/3.11.7 Linux/6.1`` style user agent."""
    py = ".".join(str(p) for p in sys.version_info[:3])
    system = f"{platform.system()}/{platform.release()}"
    return f"pipetrail-{component}/{__version__} Python/{py} {system}"
