"""The bootstrap runs a script exactly as ``python SCRIPT`` would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import os, sys
print(sys.argv)
print(__name__, os.path.basename(__file__))
print(os.path.basename(sys.path[0]))
import helper
print(helper.VALUE)
"""


def run(path: Path, *args: str, bootstrap: bool) -> subprocess.CompletedProcess[str]:
    prefix = ["-m", "pipetrail.sdk.bootstrap"] if bootstrap else []
    return subprocess.run([sys.executable, *prefix, str(path), *args], capture_output=True,
                          text=True, cwd=path.parent.parent, timeout=60)


@pytest.mark.parametrize("body", [
    PROBE,
    "import sys\nsys.exit(3)\n",
    "raise SystemExit('bye')\n",
    "def f():\n    raise ValueError('bad value')\nf()\n",
    "import json\njson.loads('{')\n",
])
def test_same_output_and_exit_code_as_plain_python(tmp_path: Path, body: str) -> None:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 42\n")
    path = folder / "probe.py"
    path.write_text(body)
    ours, plain = run(path, "a", "--b", bootstrap=True), run(path, "a", "--b", bootstrap=False)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        plain.returncode, plain.stdout, plain.stderr)


def test_usage_without_a_script() -> None:
    result = subprocess.run([sys.executable, "-m", "pipetrail.sdk.bootstrap"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "usage" in result.stderr
