"""Post-import hooks: run a callback once a module has been imported, and only then.

:func:`when_imported` lets the data capture wrap pandas, Polars or PySpark the moment a
job imports them, so a job that never imports them pays nothing. A finder placed first
on :data:`sys.meta_path` notices the import of a watched module, lets the usual finders
locate it, and runs the callbacks right after the module's own code has run (before the
``import`` statement returns). A module imported already is called back at once.

A callback that raises is reported to ``on_error`` (when given) and otherwise ignored:
the job's import always succeeds exactly as it would without the hook.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType

Callback = Callable[[ModuleType], None]
ErrorSink = Callable[[str, BaseException], None]


class _Hooks:
    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callback]] = {}
        self.on_error: ErrorSink | None = None
        self.lock = threading.RLock()
        self.finding: set[str] = set()

    def fire(self, module: ModuleType) -> None:
        with self.lock:
            callbacks = self.callbacks.pop(module.__name__, [])
        for callback in callbacks:
            try:
                callback(module)
            except Exception as exc:  # a hook must never break the job's import
                if self.on_error is not None:
                    self.on_error(module.__name__, exc)


_hooks = _Hooks()


class _ChainedLoader(importlib.abc.Loader):
    """Runs the real loader, then the module's callbacks."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module sees its own loader, as without the hook.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _hooks.fire(module)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _hooks.callbacks or fullname in _hooks.finding:
            return None
        _hooks.finding.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        except (ImportError, ValueError):
            return None
        finally:
            _hooks.finding.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _ChainedLoader(spec.loader)
        return spec


_finder = _PostImportFinder()


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` once module ``name`` has been imported (now, if it has)."""
    module = sys.modules.get(name)
    if module is not None:
        with _hooks.lock:
            _hooks.callbacks.setdefault(name, []).append(callback)
        _hooks.fire(module)
        return
    with _hooks.lock:
        _hooks.callbacks.setdefault(name, []).append(callback)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)


def report_errors_to(sink: ErrorSink | None) -> None:
    """Where a failing callback is reported (the data capture logs it to the runner)."""
    _hooks.on_error = sink
