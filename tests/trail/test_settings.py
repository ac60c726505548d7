"""Bad trail settings and arguments get clear errors, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrail.config import Settings
from pipetrail.model.errors import ConfigError
from pipetrail.trail.signing import Signer


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PIPETRAIL_DELIVERY_INTERVAL", "soon", "must be a number of seconds"),
    ("PIPETRAIL_DELIVERY_INTERVAL", "0.5", "between 1 and 3600"),
    ("PIPETRAIL_DELIVERY_INTERVAL", "4000", "between 1 and 3600"),
    ("PIPETRAIL_DELIVER_ON_RUN_END", "maybe", "must be true or false"),
])
def test_bad_settings_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        Settings.from_env({name: value})
    assert name in str(refused.value)


def test_good_settings(tmp_path: Path) -> None:
    settings = Settings.from_env({"PIPETRAIL_DELIVERY_INTERVAL": " 5 ",
                                  "PIPETRAIL_DELIVER_ON_RUN_END": "off",
                                  "PIPETRAIL_SIGNING_KEY": str(tmp_path / "k.pem")})
    assert settings.delivery_interval == 5.0
    assert settings.deliver_on_run_end is False
    assert settings.signing_key_path == tmp_path / "k.pem"


def test_a_signing_key_that_is_not_a_key(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(ConfigError, match="cannot load the signing key"):
        Signer.load_or_create(bad)
    assert bad.read_text() == "not a key"  # left as it was


def test_a_bad_interval_on_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("trail", "deliver", "--interval", "0")
    assert result.returncode == 2
    assert "--interval must be between 1 and 3600 seconds" in result.stderr
    result = cli("trail", "deliver", env={"PIPETRAIL_DELIVERY_INTERVAL": "soon"})
    assert result.returncode == 3 and "PIPETRAIL_DELIVERY_INTERVAL" in result.stderr
