"""E-mail targets, sent over SMTP with the standard library's smtplib.

The server, port, TLS mode and credentials come from the delivering process's
environment (:mod:`pipetrail.events.settings`); a target names only its recipients and
an optional subject prefix. The message is plain text: what happened, then the event as
JSON. Permanent SMTP refusals (5xx, refused recipients, refused credentials) go to the
dead letters at once; temporary ones (4xx, connection trouble) are retried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.events.settings import SmtpSettings
from pipetrail.events.targets.kind import DeliveryError, SendContext
from pipetrail.events.targets.render import summarize
from pipetrail.model.errors import ValidationError

if TYPE_CHECKING:  # the mail modules are loaded when mail is sent
    import smtplib
    from email.message import EmailMessage

MAX_RECIPIENTS = 50
MAX_PREFIX = 100
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")


def email_message(event: Mapping[str, Any], sender: str, recipients: list[str],
                  prefix: str) -> EmailMessage:
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    summary = summarize(event)
    message = EmailMessage()
    message["Subject"] = f"{prefix} {summary.title}".strip()[:250]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Pipetrail-Event-Id"] = str(event.get("id"))
    lines = [summary.title, "", summary.text, ""]
    lines += [f"{name}: {value}" for name, value in summary.fields]
    lines += ["", f"{event.get('detail-type')} from {event.get('source')} at "
                  f"{event.get('time')}", "", "The event:", "",
              orjson.dumps(event, option=orjson.OPT_INDENT_2).decode()]
    message.set_content("\n".join(lines))
    return message


class Email:
    name = "email"
    secret_label: str | None = None
    default_timeout = 10.0

    def new_secret(self) -> str | None:
        return None

    def check(self, config: Mapping[str, Any], secret: str | None
              ) -> tuple[dict[str, Any], str | None]:
        extra = set(config) - {"to", "subjectPrefix"}
        if extra:
            raise ValidationError(f"an e-mail target takes no {', '.join(sorted(extra))}")
        recipients = config.get("to")
        if isinstance(recipients, str):
            recipients = [recipients]
        if not isinstance(recipients, list) or not recipients:
            raise ValidationError("an e-mail target needs at least one recipient (--to)")
        if len(recipients) > MAX_RECIPIENTS:
            raise ValidationError(f"at most {MAX_RECIPIENTS} recipients")
        for address in recipients:
            if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
                raise ValidationError(f"recipient {address!r} is not an e-mail address")
        prefix = config.get("subjectPrefix", "[Pipetrail]")
        if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX or "\n" in prefix:
            raise ValidationError(f"the subject prefix is one line of at most {MAX_PREFIX} "
                                  "characters")
        if secret is not None:
            raise ValidationError("an e-mail target has no secret; SMTP credentials come "
                                  "from PIPETRAIL_SMTP_USER and PIPETRAIL_SMTP_PASSWORD")
        return {"to": list(dict.fromkeys(recipients)), "subjectPrefix": prefix}, None

    def describe(self, config: Mapping[str, Any]) -> str:
        return "mail to " + ", ".join(config["to"])

    def send(self, config: Mapping[str, Any], secret: str | None, event_text: str,
             ctx: SendContext) -> None:
        import smtplib
        import ssl

        if ctx.settings.error is not None:
            raise DeliveryError("CONFIGURATION", ctx.settings.error)
        smtp = ctx.settings.smtp
        message = email_message(orjson.loads(event_text), smtp.sender, list(config["to"]),
                                str(config.get("subjectPrefix", "")))
        timeout = min(ctx.timeout, smtp.timeout)
        where = f"SMTP server {smtp.host}:{smtp.port}"
        try:
            with _connect(smtp, timeout) as client:
                if smtp.user is not None and smtp.password is not None:
                    client.login(smtp.user, smtp.password)
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError("NO_PERMISSIONS", f"{where} refused the credentials of "
                                f"{smtp.user!r} ({exc.smtp_code})", retriable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise DeliveryError("NO_RESOURCE", f"{where} refused the recipients {refused}",
                                retriable=False) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            raise DeliveryError(f"SMTP_{exc.smtp_code}",
                                f"{where} answered {exc.smtp_code} {text[:200]}",
                                retriable=not 500 <= exc.smtp_code < 600) from None
        except ssl.SSLError as exc:
            raise DeliveryError("TLS_ERROR", f"{where}: TLS failed: {exc.reason or exc}",
                                retriable=False) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError("SMTP_NOT_SUPPORTED", f"{where}: {exc}",
                                retriable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            kind = "TIMEOUT" if isinstance(exc, TimeoutError) else "CONNECTION_ERROR"
            raise DeliveryError(kind, f"{where}: {type(exc).__name__}: {exc}") from None


def _connect(smtp: SmtpSettings, timeout: float) -> smtplib.SMTP:
    import smtplib
    import ssl

    context = ssl.create_default_context(cafile=smtp.ca_file)
    if smtp.security == "tls":
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    try:
        if smtp.security == "starttls":
            client.starttls(context=context)
    except BaseException:
        client.close()
        raise
    return client


EMAIL = Email()
