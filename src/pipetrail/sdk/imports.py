"""Post-import hooks: run a function right after a module is first imported.

The SDK patches libraries (PySpark, later pandas) only when the job imports them, so a
job that never imports them pays nothing but one dictionary lookup per import. A finder
at the front of ``sys.meta_path`` answers only for the watched names: it asks the finders
after it for the real spec and wraps the loader so that the hook runs once the module has
executed. Standard library only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, cast

ImportHook = Callable[[ModuleType], None]


class _Loader:
    """Delegates to the real loader, then runs the hooks of the module."""

    def __init__(self, loader: Any, hooks: list[ImportHook]) -> None:
        self._loader = loader
        self._hooks = hooks

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        for hook in self._hooks:
            try:
                hook(module)
            except Exception:  # a broken hook must never break the job's import
                continue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class PostImportFinder:
    """A ``sys.meta_path`` finder that only watches, never finds modules itself."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[ImportHook]] = {}

    def watch(self, name: str, hook: ImportHook) -> None:
        """Run ``hook(module)`` after ``name`` is imported (at once if it already is)."""
        module = sys.modules.get(name)
        if module is not None:
            hook(module)
            return
        self._hooks.setdefault(name, []).append(hook)

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        hooks = self._hooks.get(fullname)
        if hooks is None:
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            try:
                spec = find(fullname, path, target)
            except (ImportError, ValueError):
                return None
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        del self._hooks[fullname]
        spec.loader = cast(Any, _Loader(spec.loader, hooks))
        return spec


_FINDER: PostImportFinder | None = None


def when_imported(name: str, hook: ImportHook) -> None:
    """Run ``hook(module)`` once module ``name`` has been imported."""
    global _FINDER
    if _FINDER is None:
        _FINDER = PostImportFinder()
        sys.meta_path.insert(0, _FINDER)
    _FINDER.watch(name, hook)
