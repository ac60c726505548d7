"""What every verb shares: settings and a lazily opened store and action context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from pipetrail.config import Settings

if TYPE_CHECKING:
    from pipetrail.actions.context import ActionContext


@dataclass
class App:
    settings: Settings
    _ctx: ActionContext | None = field(default=None, repr=False)

    def context(self) -> ActionContext:
        """The action context (opens the store on first use)."""
        if self._ctx is None:
            from pipetrail.actions.context import ActionContext
            from pipetrail.store import open_store

            self._ctx = ActionContext.local(open_store(self.settings), self.settings)
        return self._ctx

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.store.close()


pass_app = click.make_pass_decorator(App)
