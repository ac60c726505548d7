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


def test_under_a_runner_the_channel_gets_environment_and_crash_stacks(tmp_path: Path) -> None:
    import json
    import os

    script = tmp_path / "crash.py"
    script.write_text("import ctypes, time\n\n\ndef native():\n    ctypes.string_at(0)\n\n\n"
                      "time.sleep(2)  # the environment report goes out meanwhile\nnative()\n")
    read, write = os.pipe()
    env = {**os.environ, "PIPETRAIL_CHANNEL_FD": str(write)}
    proc = subprocess.Popen([sys.executable, "-m", "pipetrail.sdk.bootstrap", str(script)],
                            pass_fds=(write,), env=env, stderr=subprocess.PIPE, text=True)
    os.close(write)
    with os.fdopen(read) as channel:
        lines = channel.read().splitlines()
    proc.wait(timeout=60)
    assert proc.returncode == -11  # the crash itself is unchanged
    assert proc.stderr is not None and "Fatal Python error" not in proc.stderr.read()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    text = [line for line in lines if not line.startswith("{")]
    env_record = next(r for r in records if r["t"] == "env")
    assert env_record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "Fatal Python error: Segmentation fault" in text
    assert f'  File "{script}", line 5 in native' in text
