"""Post-import hooks: called once the module has run, never breaking its import."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pipetrail.sdk.imports import report_errors_to, when_imported


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("hooked_")]:
        del sys.modules[name]
    report_errors_to(None)


def test_the_callback_sees_the_module_fully_run(modules: Path) -> None:
    (modules / "hooked_one.py").write_text("VALUE = 1\ndef f():\n    return 2\n")
    seen: list[tuple[str, int]] = []
    when_imported("hooked_one", lambda m: seen.append((m.__name__, m.VALUE + m.f())))
    assert seen == []
    module = importlib.import_module("hooked_one")
    assert seen == [("hooked_one", 3)]
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert module.__spec__ is not None and module.__spec__.loader is module.__loader__
    importlib.reload(module)
    assert len(seen) == 1  # once per hook


def test_submodules_and_modules_imported_already(modules: Path) -> None:
    package = modules / "hooked_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sub.py").write_text("X = 'sub'\n")
    seen: list[str] = []
    when_imported("hooked_pkg.sub", lambda m: seen.append(m.X))
    importlib.import_module("hooked_pkg")
    assert seen == []
    importlib.import_module("hooked_pkg.sub")
    assert seen == ["sub"]
    when_imported("hooked_pkg", lambda m: seen.append(m.__name__))
    assert seen == ["sub", "hooked_pkg"]  # imported already: called at once


def test_a_failing_callback_is_reported_and_the_import_succeeds(modules: Path) -> None:
    (modules / "hooked_bad.py").write_text("Y = 5\n")
    errors: list[tuple[str, str]] = []
    report_errors_to(lambda name, exc: errors.append((name, str(exc))))

    def fail(module: ModuleType) -> None:
        raise RuntimeError("hook broke")

    when_imported("hooked_bad", fail)
    assert importlib.import_module("hooked_bad").Y == 5
    assert errors == [("hooked_bad", "hook broke")]


def test_a_module_that_fails_to_import_keeps_its_hook(modules: Path) -> None:
    path = modules / "hooked_later.py"
    path.write_text("raise ImportError('not yet')\n")
    seen: list[str] = []
    when_imported("hooked_later", lambda m: seen.append(m.__name__))
    with pytest.raises(ImportError, match="not yet"):
        importlib.import_module("hooked_later")
    path.write_text("OK = True\n")
    importlib.invalidate_caches()
    sys.modules.pop("hooked_later", None)
    assert importlib.import_module("hooked_later").OK
    assert seen == ["hooked_later"]


def test_a_missing_module_is_still_missing(modules: Path) -> None:
    when_imported("hooked_nowhere", lambda m: None)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hooked_nowhere")
