"""Wrapping a library function so that each call is recorded as data events.

A wrapper calls the original with the same arguments and returns exactly what it
returns; an exception from the original is recorded (with its error code) and re-raised
as the same object. Everything the wrapper does around the call is guarded: if working
out the dataset or sending the event fails, the call goes on as if unwrapped. Calls made
while another captured call runs on the same thread (``read_parquet`` calling
``scan_parquet``) are not recorded again.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from typing import Any, Protocol

from pipetrail.sdk.data import captured_call, capturing

WRAPPED_MARK = "__pipetrail_data_capture__"  # distinct from the Spark hooks' mark


class Access(Protocol):
    """One call being recorded: told how the call ended."""

    def succeeded(self, result: Any) -> None: ...

    def failed(self, error: Exception) -> None: ...


# Given the call's arguments, an Access to record it, or None when it touches no dataset.
Planner = Callable[[tuple[Any, ...], dict[str, Any]], Access | None]


def wrap(original: Callable[..., Any], plan: Planner) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if capturing():
            return original(*args, **kwargs)
        access: Access | None = None
        with contextlib.suppress(Exception):
            access = plan(args, kwargs)
        with captured_call():
            if access is None:
                return original(*args, **kwargs)
            try:
                result = original(*args, **kwargs)
            except Exception as exc:
                with contextlib.suppress(Exception):
                    access.failed(exc)
                raise
        with contextlib.suppress(Exception):
            access.succeeded(result)
        return result

    setattr(wrapper, WRAPPED_MARK, True)
    return wrapper


def patch(owner: Any, name: str, plan: Planner) -> bool:
    """Replace ``owner.name`` (a module function or a class's method) by its wrapper;
    False when it does not exist or is wrapped already."""
    original = getattr(owner, name, None)
    if original is None or not callable(original) or getattr(original, WRAPPED_MARK, False):
        return False
    setattr(owner, name, wrap(original, plan))
    return True


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def argument(args: tuple[Any, ...], kwargs: dict[str, Any], position: int, name: str,
             default: Any = None) -> Any:
    """A call's argument by position or by keyword."""
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)
