"""The built-in redaction rules: what secrets look like in log lines.

Each rule is a regular expression and what replaces a match: the secret part becomes
``[REDACTED:<kind>]`` and the context around it (``password=``, ``Bearer ``, the user
of a URL) stays, so a redacted line still says what was there. Every match length is
bounded (at most :data:`MAX_MATCH` characters), which lets a line that arrives in pieces
be redacted as if it were whole (see :mod:`pipetrail.logs.redaction.redactor`).

The rules are applied in the order of :data:`BUILTIN_RULES`, to lines for which
:func:`may_hold_secret` is true; most lines cost that one check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_MATCH = 8192
MASK_PREFIX = "[REDACTED:"


def mask(kind: str) -> str:
    return f"{MASK_PREFIX}{kind}]"


@dataclass(frozen=True)
class Rule:
    """``pattern``'s matches are replaced by ``replace(match)``."""

    name: str
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str]
    description: str

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.replace, text)


def _keep(group: str, kind: str) -> Callable[[re.Match[str]], str]:
    """Keep everything but the named group, which is masked."""

    def replace(match: re.Match[str]) -> str:
        start, end = match.span(group)
        whole_start = match.start()
        return (match.string[whole_start:start] + mask(kind)
                + match.string[end:match.end()])
    return replace


def _whole(kind: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: mask(kind)


_NOT_MASKED = r"(?!\[REDACTED:)"
_PASSWORD_WORDS = r"password|passwd|passphrase|pwd"
_AWS_SECRET_WORDS = r"secret[_-]?access[_-]?key"
_SECRET_WORDS = (
    rf"{_AWS_SECRET_WORDS}|{_PASSWORD_WORDS}|secret|token|api[_-]?key|apikey"
    r"|private[_-]?key|secret[_-]?key|credentials?"
)
# A credential's name: an identifier ending in one of the words (db_password,
# AWS_SECRET_ACCESS_KEY, clientSecret, x-api-key, NextToken …), case-insensitively.
KEY_NAME = re.compile(rf"[A-Za-z0-9_.\-]{{0,64}}?(?i:{_SECRET_WORDS})")
_VALUE = (
    rf"{_NOT_MASKED}(?:b?\"(?P<dq>(?:[^\"\\\n]|\\.){{1,1024}})\""
    rf"|b?'(?P<sq>(?:[^'\\\n]|\\.){{1,1024}})'"
    rf"|(?P<bare>[^\s\"',;&}}\])]{{1,1024}}))"
)
_ASSIGNMENT = re.compile(
    rf"(?P<key>(?<![A-Za-z0-9_.\-])[\"']?{KEY_NAME.pattern}[\"']?)"
    rf"(?P<sep>\s{{0,8}}(?::|=)\s{{0,8}}|\s{{1,8}}(?=[\"']))"
    rf"{_VALUE}"
)
_FLAG = re.compile(
    rf"(?P<key>(?<!\S)--?[A-Za-z0-9_\-]{{0,64}}?(?i:{_SECRET_WORDS}))(?P<sep>\s{{1,8}})"
    rf"{_VALUE}"
)


def _assignment_kind(key: str) -> str:
    lowered = key.lower()
    if re.search(_AWS_SECRET_WORDS, lowered):
        return "aws-secret-access-key"
    if re.search(_PASSWORD_WORDS, lowered):
        return "password"
    return "secret"


def _replace_assignment(match: re.Match[str]) -> str:
    group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
    return _keep(group, _assignment_kind(match.group("key")))(match)


def credential_kind(key: str) -> str | None:
    """The kind of secret a JSON key such as ``"password"`` names, or None."""
    if KEY_NAME.fullmatch(key) is None:
        return None
    return _assignment_kind(key)


_ACCESS_KEY_ID = r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"
_SECRET_KEY_SHAPE = r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"


def _looks_like_secret_key(match: re.Match[str]) -> str:
    text = match.group(0)
    if (("/" in text or "+" in text) and any(c.islower() for c in text)
            and any(c.isupper() for c in text) and any(c.isdigit() for c in text)):
        return mask("aws-secret-access-key")
    return text


BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("aws-key-pair",
         re.compile(rf"(?P<id>{_ACCESS_KEY_ID})(?P<sep>[\s,;:|\"'=]{{1,8}})"
                    rf"(?P<secret>{_SECRET_KEY_SHAPE})"),
         lambda m: mask("aws-access-key-id") + m.group("sep") + mask("aws-secret-access-key"),
         "an access key id followed by a 40-character secret key (CSV, `aws configure` "
         "output): both masked"),
    Rule("url-password",
         re.compile(rf"(?P<pre>\b[A-Za-z][A-Za-z0-9+.\-]{{1,40}}://[^\s:/@?#\"'<>]{{0,256}}:)"
                    rf"{_NOT_MASKED}(?P<pw>[^\s/?#\"'<>]{{1,1024}})@"),
         lambda m: m.group("pre") + mask("password") + "@",
         "the password of a URL or DSN with user information: "
         "`postgresql://etl:[REDACTED:password]@db/x`, `redis://:…@host`"),
    Rule("bearer-token",
         re.compile(rf"(?P<pre>\b(?i:bearer)\s{{1,8}}){_NOT_MASKED}"
                    r"(?P<tok>[A-Za-z0-9\-._~+/]{8,4096}=*)"),
         _keep("tok", "bearer-token"),
         "a token after `Bearer ` (case-insensitive), 8 or more characters"),
    Rule("authorization",
         re.compile(r"(?P<pre>\b(?i:authorization)[\"']?\s{0,8}[:=]\s{0,8}[\"']?"
                    r"(?>(?:(?i:basic|bearer|digest|token|negotiate|ntlm|aws4-hmac-sha256)"
                    r"\s{1,8})?))"
                    rf"{_NOT_MASKED}(?P<tok>[^\s\"',;]{{4,4096}})"),
         _keep("tok", "authorization"),
         "the credentials of an `Authorization:` header (Basic, Token, Digest …)"),
    Rule("jwt",
         re.compile(r"\beyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,8192}"
                    r"\.[A-Za-z0-9_\-]{0,4096}"),
         _whole("jwt"), "a JSON Web Token (`eyJ….eyJ….…`)"),
    Rule("assignment", _ASSIGNMENT, _replace_assignment,
         "the value after a credential's name and `=` or `:` — names ending in password, "
         "passwd, passphrase, pwd, secret, token, api_key/apikey, private_key, secret_key, "
         "secret_access_key, credential(s), in any case and with any prefix "
         "(`DB_PASSWORD=…`, `'password': '…'`, `\"clientSecret\": \"…\"`, `Pwd=…;`)"),
    Rule("flag", _FLAG, _replace_assignment,
         "the value after a command-line flag with such a name (`--password …`)"),
    Rule("aws-access-key-id", re.compile(_ACCESS_KEY_ID), _whole("aws-access-key-id"),
         "an AWS access key id: AKIA, ASIA, ABIA or ACCA and 16 capitals or digits"),
    Rule("aws-secret-access-key", re.compile(_SECRET_KEY_SHAPE), _looks_like_secret_key,
         "a standalone 40-character AWS-style secret key: letters, digits, `/` and `+`, "
         "holding a lower-case letter, a capital, a digit, and a `/` or `+` "
         "(so hex digests and most identifiers are left alone)"),
    Rule("github-token",
         re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
         _whole("github-token"), "GitHub tokens (`ghp_…`, `github_pat_…`)"),
    Rule("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,250}"),
         _whole("slack-token"), "Slack tokens (`xoxb-…`)"),
)

# What a line must hold (once lower-cased) for any rule above to match; private keys are
# found by the PEM tracker. Checking these first makes a line without them cost about a
# microsecond.
_TRIGGER_WORDS = re.compile(
    r"pass|pwd|secret|token|api[_-]?key|private|credential|bearer|authoriz|://"
    r"|akia|asia|abia|acca|eyj|gh[pousr]_|github_pat_|xox"
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9/+]{40}")


def may_hold_secret(text: str) -> bool:
    """False when no built-in rule can match ``text``."""
    if _TRIGGER_WORDS.search(text.lower()) is not None:
        return True
    # The standalone secret key needs a "/" or "+" in a 40-character run.
    return ("/" in text or "+" in text) and _BASE64_RUN.search(text) is not None
