"""Post-import hooks: they run once a watched module has been imported, never before."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pipetrail.sdk.imports import PostImportFinder


@pytest.fixture
def finder(tmp_path: Path) -> Iterator[PostImportFinder]:
    package = tmp_path / "pt_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pt_probe_pkg import inner\nVALUE = 1\n")
    (package / "inner.py").write_text("class Thing:\n    def act(self):\n        return 'a'\n")
    (tmp_path / "pt_probe_broken.py").write_text("raise RuntimeError('broken module')\n")
    watcher = PostImportFinder()
    sys.path.insert(0, str(tmp_path))
    sys.meta_path.insert(0, watcher)
    yield watcher
    sys.meta_path.remove(watcher)
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith(("pt_probe_pkg", "pt_probe_broken"))]:
        del sys.modules[name]


def test_hooks_run_after_the_module_executed(finder: PostImportFinder) -> None:
    seen: list[tuple[str, object]] = []
    finder.watch("pt_probe_pkg", lambda m: seen.append((m.__name__, getattr(m, "VALUE", None))))
    finder.watch("pt_probe_pkg.inner", lambda m: seen.append((m.__name__, None)))
    assert seen == []
    import pt_probe_pkg  # type: ignore[import-not-found]

    # The submodule finished first (the package imports it), then the package.
    assert seen == [("pt_probe_pkg.inner", None), ("pt_probe_pkg", 1)]
    assert type(pt_probe_pkg.__loader__).__name__ == "SourceFileLoader"
    import importlib

    importlib.reload(pt_probe_pkg)
    assert len(seen) == 2  # once only


def test_a_hook_can_patch_and_a_failing_hook_is_harmless(finder: PostImportFinder) -> None:
    def patch(module: ModuleType) -> None:
        module.Thing.act = lambda self: "patched"

    def broken(module: ModuleType) -> None:
        raise ValueError("hook bug")

    finder.watch("pt_probe_pkg.inner", broken)
    finder.watch("pt_probe_pkg.inner", patch)
    from pt_probe_pkg.inner import Thing  # type: ignore[import-not-found]

    assert Thing().act() == "patched"


def test_an_import_error_still_reaches_the_importer(finder: PostImportFinder) -> None:
    finder.watch("pt_probe_broken", lambda m: None)
    with pytest.raises(RuntimeError, match="broken module"):
        import pt_probe_broken  # type: ignore[import-not-found]  # noqa: F401


def test_already_imported_modules_get_the_hook_at_once(finder: PostImportFinder) -> None:
    seen: list[str] = []
    finder.watch("json", lambda m: seen.append(m.__name__))
    assert seen == ["json"]
