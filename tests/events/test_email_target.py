"""E-mail targets against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, with
credentials, over STARTTLS and implicit TLS with a certificate made for the test; refusals
and bad credentials become dead letters without the password showing anywhere."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import list_dead_letters, put_target
from pipetrail.config import Settings
from pipetrail.events.delivery import Attempt, Backoff, Deliverer
from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.notifier import Notifier
from pipetrail.events.settings import DeliverySettings
from pipetrail.model.errors import ConfigError, ValidationError
from tests.events.receivers import SmtpReceiver

ALARM = EventEnvelope(
    source="pipetrail.alarms", detail_type="Alarm State Change",
    detail={"alarmName": "memory high",
            "state": {"value": "ALARM", "reason": "Threshold Crossed: 1 datapoint",
                      "timestamp": "2026-11-25T10:00:00.000+0000"},
            "previousState": {"value": "OK", "reason": "fine"}})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    yield server
    server.close()


def send(ctx: ActionContext, env: dict[str, str], event: EventEnvelope = ALARM
         ) -> list[Attempt]:
    settings = DeliverySettings.from_env({"PIPETRAIL_NOTIFY_TIMEOUT": "1", **env})
    notifier = Notifier(ctx.store, ctx.workspace, settings=settings,
                        deliverer=Deliverer(ctx.store, settings, Backoff(50, 100)))
    try:
        notifier.publish(event, {"mail": "arn:test"})
    finally:
        notifier.close()
    return notifier.attempts


def test_an_alarm_is_mailed(ctx: ActionContext, smtp: SmtpReceiver) -> None:
    put_target(ctx, "mail", "email", {"to": ["oncall@example.test", "lead@example.test"]})
    [attempt] = send(ctx, smtp.env())
    assert attempt.outcome == "delivered"
    [mail] = smtp.wait_for(1)
    assert mail.sender == "pipetrail@example.test"
    assert mail.recipients == ["oncall@example.test", "lead@example.test"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Subject"] == '[Pipetrail] ALARM: "memory high"'
    assert message["X-Pipetrail-Event-Id"] == ALARM.id
    body = message.get_content()
    assert "Threshold Crossed: 1 datapoint" in body
    assert "State: OK → ALARM" in body
    assert json.loads(body[body.index("{"):]) == ALARM.to_json()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_are_used_and_never_shown(ctx: ActionContext) -> None:
    server = SmtpReceiver(user="pipe", password="hunter2-secret")
    try:
        put_target(ctx, "mail", "email", {"to": "ops@example.test",
                                          "subjectPrefix": "[etl]"})
        good = server.env(PIPETRAIL_SMTP_USER="pipe", PIPETRAIL_SMTP_PASSWORD="hunter2-secret")
        assert send(ctx, good)[0].outcome == "delivered"
        subject = email.message_from_bytes(server.wait_for(1)[0].content)["Subject"]
        assert subject.startswith("[etl] ALARM")
        bad = server.env(PIPETRAIL_SMTP_USER="pipe", PIPETRAIL_SMTP_PASSWORD="wrong-password")
        [attempt] = send(ctx, bad)
        assert (attempt.outcome, attempt.code) == ("dead", "NO_PERMISSIONS")
        [letter] = list_dead_letters(ctx)
        assert "refused the credentials of 'pipe'" in letter["errorMessage"]
        assert "wrong-password" not in json.dumps(letter)
        assert "wrong-password" not in repr(DeliverySettings.from_env(bad))
    finally:
        server.close()


def test_a_refused_recipient_is_a_dead_letter(ctx: ActionContext) -> None:
    server = SmtpReceiver(refuse={"nobody@example.test"})
    try:
        put_target(ctx, "mail", "email", {"to": ["nobody@example.test"]})
        [attempt] = send(ctx, server.env())
        assert (attempt.outcome, attempt.code) == ("dead", "NO_RESOURCE")
        assert "nobody@example.test" in (attempt.message or "")
    finally:
        server.close()


def test_a_server_that_is_down_is_retried(ctx: ActionContext, smtp: SmtpReceiver) -> None:
    env = smtp.env()
    smtp.close()
    put_target(ctx, "mail", "email", {"to": ["ops@example.test"]})
    attempts = send(ctx, env)
    assert attempts and all(a.outcome == "retry" for a in attempts)
    assert attempts[0].code == "CONNECTION_ERROR"


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_starttls_with_credentials(ctx: ActionContext, tmp_path: Path) -> None:
    context, ca_file = _certificate(tmp_path)
    server = SmtpReceiver(user="pipe", password="s3cret", tls_context=context)
    try:
        put_target(ctx, "mail", "email", {"to": ["ops@example.test"]})
        env = server.env("starttls", PIPETRAIL_SMTP_USER="pipe",
                         PIPETRAIL_SMTP_PASSWORD="s3cret", PIPETRAIL_SMTP_CA_FILE=str(ca_file))
        assert send(ctx, env)[0].outcome == "delivered"
        assert len(server.wait_for(1)) == 1
        untrusted = {k: v for k, v in env.items() if k != "PIPETRAIL_SMTP_CA_FILE"}
        [attempt] = send(ctx, untrusted)
        assert (attempt.outcome, attempt.code) == ("dead", "TLS_ERROR")
    finally:
        server.close()


def test_implicit_tls(ctx: ActionContext, tmp_path: Path) -> None:
    context, ca_file = _certificate(tmp_path)
    server = SmtpReceiver(implicit_tls=context)
    try:
        put_target(ctx, "mail", "email", {"to": ["ops@example.test"]})
        env = server.env("tls", PIPETRAIL_SMTP_CA_FILE=str(ca_file))
        assert send(ctx, env)[0].outcome == "delivered"
        assert len(server.wait_for(1)) == 1
    finally:
        server.close()


def test_email_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="PIPETRAIL_SMTP_SECURITY"):
        DeliverySettings.from_env({"PIPETRAIL_SMTP_SECURITY": "ssl3"})
    with pytest.raises(ConfigError, match="both PIPETRAIL_SMTP_USER"):
        DeliverySettings.from_env({"PIPETRAIL_SMTP_USER": "u"})
    with pytest.raises(ConfigError, match="PIPETRAIL_SMTP_PORT must be a number"):
        DeliverySettings.from_env({"PIPETRAIL_SMTP_PORT": "x"})
    assert DeliverySettings.from_env({"PIPETRAIL_SMTP_SECURITY": "tls"}).smtp.port == 465
    lenient = DeliverySettings.lenient({"PIPETRAIL_SMTP_PORT": "x"})
    assert lenient.error is not None and "PIPETRAIL_SMTP_PORT" in lenient.error


@pytest.mark.parametrize("config, message", [
    ({}, "at least one recipient"),
    ({"to": ["not an address"]}, "is not an e-mail address"),
    ({"to": ["a@b.c"], "subjectPrefix": "x\ny"}, "one line"),
    ({"to": ["a@b.c"], "cc": ["d@e.f"]}, "takes no cc"),
])
def test_email_targets_are_checked(ctx: ActionContext, config: dict[str, object],
                                   message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        put_target(ctx, "mail", "email", config)
