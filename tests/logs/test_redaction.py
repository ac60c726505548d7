"""Redaction: which secrets are masked, what stays, private keys across lines, long lines
in pieces, JSON events, custom patterns. The secrets are made-up values in the shapes of
real ones (AWS's documentation example keys, random-looking tokens); none is real."""

from __future__ import annotations

import itertools
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipetrail.logs.redaction import Redactor, StreamRedactor, compile_patterns
from pipetrail.logs.redaction.redactor import HOLD
from pipetrail.model.errors import ValidationError

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEMP_KEY = "ASIAJEXAMPLEXEG2JICE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4i"
       "fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"

R = Redactor()

# (text, the secrets that must be gone, the redacted text)
SECRETS = [
    ("connecting to postgresql://etl:hunter2@db.internal:5432/sales", ["hunter2"],
     "connecting to postgresql://etl:[REDACTED:password]@db.internal:5432/sales"),
    ("postgres://etl:p%40ss%2Fw0rd@db/x", ["p%40ss%2Fw0rd"],
     "postgres://etl:[REDACTED:password]@db/x"),
    ("mysql+pymysql://root:S3cr3t!@127.0.0.1:3306/shop", ["S3cr3t!"],
     "mysql+pymysql://root:[REDACTED:password]@127.0.0.1:3306/shop"),
    ("redis://:s3cr3tpass@cache:6379/0", ["s3cr3tpass"],
     "redis://:[REDACTED:password]@cache:6379/0"),
    ("amqp://guest:g@est@rabbit:5672/", ["g@est"], "amqp://guest:[REDACTED:password]@rabbit:5672/"),
    ("jdbc:postgresql://db:5432/x?user=etl&password=hunter2&ssl=true", ["hunter2"],
     "jdbc:postgresql://db:5432/x?user=etl&password=[REDACTED:password]&ssl=true"),
    ("host=db port=5432 user=etl password=hunter2 dbname=x", ["hunter2"],
     "host=db port=5432 user=etl password=[REDACTED:password] dbname=x"),
    ("host=db user=etl password='two words' dbname=x", ["two words"],
     "host=db user=etl password='[REDACTED:password]' dbname=x"),
    ("Server=db;Database=x;User Id=etl;Password=hunter2;", ["hunter2"],
     "Server=db;Database=x;User Id=etl;Password=[REDACTED:password];"),
    ("Driver={ODBC};Uid=etl;Pwd=hunter2;", ["hunter2"],
     "Driver={ODBC};Uid=etl;Pwd=[REDACTED:password];"),
    ("{'user': 'etl', 'password': 'hunter2', 'port': 5432}", ["hunter2"],
     "{'user': 'etl', 'password': '[REDACTED:password]', 'port': 5432}"),
    ("config: {'db_password': b'hunter2'}", ["hunter2"],
     "config: {'db_password': b'[REDACTED:password]'}"),
    ('settings password: "with \\"quote\\" inside"', ['with \\"quote\\" inside'],
     'settings password: "[REDACTED:password]"'),
    ("DB_PASSWORD=hunter2", ["hunter2"], "DB_PASSWORD=[REDACTED:password]"),
    ("export PGPASSWORD=hunter2", ["hunter2"], "export PGPASSWORD=[REDACTED:password]"),
    ("Password: hunter2", ["hunter2"], "Password: [REDACTED:password]"),
    ("passphrase = correct-horse-battery", ["correct-horse-battery"],
     "passphrase = [REDACTED:password]"),
    ("spark-submit --conf x=1 --password hunter2 job.py", ["hunter2"],
     "spark-submit --conf x=1 --password [REDACTED:password] job.py"),
    ("run --db-password=hunter2 --dry-run", ["hunter2"],
     "run --db-password=[REDACTED:password] --dry-run"),
    (f"AWS_ACCESS_KEY_ID={ACCESS_KEY}", [ACCESS_KEY],
     "AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]"),
    (f"using key {TEMP_KEY} for the session", [TEMP_KEY],
     "using key [REDACTED:aws-access-key-id] for the session"),
    (f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}", [SECRET_KEY],
     "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-access-key]"),
    (f"aws_secret_access_key = {SECRET_KEY}", [SECRET_KEY],
     "aws_secret_access_key = [REDACTED:aws-secret-access-key]"),
    (f"{{'AccessKeyId': '{TEMP_KEY}', 'SecretAccessKey': '{SECRET_KEY}'}}",
     [TEMP_KEY, SECRET_KEY],
     "{'AccessKeyId': '[REDACTED:aws-access-key-id]', "
     "'SecretAccessKey': '[REDACTED:aws-secret-access-key]'}"),
    (f"{ACCESS_KEY},{SECRET_KEY}", [ACCESS_KEY, SECRET_KEY],
     "[REDACTED:aws-access-key-id],[REDACTED:aws-secret-access-key]"),
    (f"credentials {ACCESS_KEY} {SECRET_KEY}", [ACCESS_KEY, SECRET_KEY],
     "credentials [REDACTED:aws-access-key-id] [REDACTED:aws-secret-access-key]"),
    (f"leaked {SECRET_KEY} here", [SECRET_KEY],
     "leaked [REDACTED:aws-secret-access-key] here"),
    (f"Authorization: Bearer {JWT}", [JWT], "Authorization: Bearer [REDACTED:bearer-token]"),
    ("curl -H 'Authorization: Bearer abc.def-ghi_jkl~mno'", ["abc.def-ghi_jkl~mno"],
     "curl -H 'Authorization: Bearer [REDACTED:bearer-token]'"),
    ("authorization=bearer 0123456789abcdef", ["0123456789abcdef"],
     "authorization=bearer [REDACTED:bearer-token]"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", ["dXNlcjpwYXNzd29yZA=="],
     "Authorization: Basic [REDACTED:authorization]"),
    (f'headers={{"Authorization": "token {GITHUB}"}}', [GITHUB],
     'headers={"Authorization": "token [REDACTED:authorization]"}'),
    (f"id token {JWT} accepted", [JWT], "id token [REDACTED:jwt] accepted"),
    (f"cloning with {GITHUB}", [GITHUB], "cloning with [REDACTED:github-token]"),
    (f"slack {SLACK} ok", [SLACK], "slack [REDACTED:slack-token] ok"),
    ("api_key=sk_live_51Habcdefghijklmnop", ["sk_live_51Habcdefghijklmnop"],
     "api_key=[REDACTED:secret]"),
    ("X-Api-Key: 9f8e7d6c5b4a", ["9f8e7d6c5b4a"], "X-Api-Key: [REDACTED:secret]"),
    ('{"clientSecret":"abc123XYZ"}', ["abc123XYZ"], '{"clientSecret":"[REDACTED:secret]"}'),
    ("refresh_token=1//0gAbCdEf; path=/", ["1//0gAbCdEf"],
     "refresh_token=[REDACTED:secret]; path=/"),
    ("GITHUB_TOKEN=abcdef123456", ["abcdef123456"], "GITHUB_TOKEN=[REDACTED:secret]"),
    ("private_key: 'bm90IGEga2V5'", ["bm90IGEga2V5"], "private_key: '[REDACTED:secret]'"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx\nAbCd==\n-----END RSA PRIVATE KEY-----",
     ["MIIEpAIBAAKCAQEAx", "AbCd=="],
     "-----BEGIN RSA PRIVATE KEY-----[REDACTED:private-key]-----END RSA PRIVATE KEY-----"),
    ("key: -----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY----- loaded",
     ["MIIEvQIBADANBg"],
     "key: -----BEGIN PRIVATE KEY-----[REDACTED:private-key]-----END PRIVATE KEY----- loaded"),
    ("-----BEGIN EC PRIVATE KEY-----MHcCAQEEIB", ["MHcCAQEEIB"],
     "-----BEGIN EC PRIVATE KEY-----[REDACTED:private-key]"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----",
     ["lQOYBF"],
     "-----BEGIN PGP PRIVATE KEY BLOCK-----[REDACTED:private-key]"
     "-----END PGP PRIVATE KEY BLOCK-----"),
]

# Lines that hold no secret and must be stored exactly as they are.
CLEAN = [
    "processed 10 rows, password policy ok",
    "Password:",
    "the bearer of bad news",
    "authorization failed for user etl",
    "commit 3f2a9c8d1e3f2a9c8d1e3f2a9c8d1e3f2a9c8d1e merged",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "reading s3://bucket/path/to/file.parquet",
    "https://example.com:8443/api/v1/users/@me",
    "visit http://localhost:4040 for the Spark UI",
    "max_tokens=512 tokenizer=bpe",
    "token_type: Bearer",
    "AKIAIOSFODNN7EXAMPLEX is too long to be a key id",
    "keyAKIAIOSFODNN7EXAMPLE glued to a word",
    "-----BEGIN CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----",
    "2026-11-25 10:00:00 INFO etl.step: processed row 12 of batch 42 in 3 ms",
    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so loaded",
    "",
    "   ",
    "{}",
    '{"level": "INFO", "message": "ok"}',
]


@pytest.mark.parametrize("text, gone, expected", SECRETS, ids=[s[2][:40] for s in SECRETS])
def test_secrets_are_masked(text: str, gone: list[str], expected: str) -> None:
    redacted = R.redact(text)
    assert redacted == expected
    for secret in gone:
        assert secret not in redacted
    assert R.redact(redacted) == redacted  # masking again changes nothing


@pytest.mark.parametrize("text", CLEAN)
def test_clean_lines_are_left_alone(text: str) -> None:
    assert R.redact(text) == text


def test_json_events_are_redacted_value_by_value_and_stay_valid() -> None:
    message = json.dumps({"level": "INFO", "logger": "etl",
                          "message": "db at postgresql://etl:hunter2@db/x",
                          "password": "hunter2", "token": 12345, "nested": {
                              "SecretAccessKey": SECRET_KEY, "list": [f"Bearer {JWT}"]},
                          "passwordHint": "a pet's name", "ok": True, "retries": 3})
    redacted = R.redact(message)
    document = json.loads(redacted)
    assert document["message"] == "db at postgresql://etl:[REDACTED:password]@db/x"
    assert document["password"] == "[REDACTED:password]"
    assert document["token"] == "[REDACTED:secret]"
    assert document["nested"] == {"SecretAccessKey": "[REDACTED:aws-secret-access-key]",
                                  "list": ["Bearer [REDACTED:bearer-token]"]}
    assert document["passwordHint"] == "a pet's name"
    assert document["ok"] is True and document["retries"] == 3
    for secret in ("hunter2", SECRET_KEY, JWT):
        assert secret not in redacted


def test_json_escapes_cannot_hide_a_credential_name() -> None:
    message = '{"pass\\u0077ord": "hunter2"}'
    assert json.loads(R.redact(message)) == {"password": "[REDACTED:password]"}


def test_a_json_event_without_secrets_keeps_its_exact_text() -> None:
    message = '{ "a" : 1,   "b": "two" }'
    assert R.redact(message) == message


def test_text_that_only_looks_like_json_is_redacted_as_text() -> None:
    assert R.redact("{password=hunter2") == "{password=[REDACTED:password]"


def feed(lines: list[str], redactor: Redactor = R, stream: tuple[str, str] = ("g", "s")
         ) -> list[str | None]:
    streams = StreamRedactor(redactor)
    return [streams.redact(stream, line) for line in lines]


PEM_BODY = ["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
            "Zm9vYmFy"]


def test_a_private_key_printed_line_by_line_is_masked() -> None:
    lines = ["loading key", "-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED",
             "DEK-Info: AES-128-CBC,3F17F5316E2BAC89", "", *PEM_BODY,
             "-----END RSA PRIVATE KEY-----", "key loaded", "Zm9vYmFyYmF6cXV4eHl6enk="]
    out = feed(lines)
    assert out == ["loading key", "-----BEGIN RSA PRIVATE KEY-----",
                   "[REDACTED:private-key]", "[REDACTED:private-key]", "",
                   *["[REDACTED:private-key]"] * 3, "-----END RSA PRIVATE KEY-----",
                   "key loaded", "Zm9vYmFyYmF6cXV4eHl6enk="]


def test_a_key_logged_with_a_prefix_on_each_line_is_masked() -> None:
    prefix = "2026-11-25 10:00:00 INFO etl: "
    out = feed([prefix + "-----BEGIN OPENSSH PRIVATE KEY-----",
                *(prefix + line for line in PEM_BODY[:2]),
                prefix + "-----END OPENSSH PRIVATE KEY-----", prefix + "done"])
    assert out[1:3] == [prefix + "[REDACTED:private-key]"] * 2
    assert out[3] == prefix + "-----END OPENSSH PRIVATE KEY-----"
    assert out[4] == prefix + "done"


def test_a_key_without_its_end_line_stops_at_the_first_ordinary_line() -> None:
    out = feed(["-----BEGIN PRIVATE KEY-----", PEM_BODY[0], "Traceback (most recent call last):",
                PEM_BODY[1]])
    assert out == ["-----BEGIN PRIVATE KEY-----", "[REDACTED:private-key]",
                   "Traceback (most recent call last):", PEM_BODY[1]]


def test_private_key_state_is_kept_per_stream() -> None:
    streams = StreamRedactor(R)
    assert streams.redact(("g", "a"), "-----BEGIN PRIVATE KEY-----") is not None
    assert streams.redact(("g", "b"), PEM_BODY[0]) == PEM_BODY[0]
    assert streams.redact(("g", "a"), PEM_BODY[0]) == "[REDACTED:private-key]"


def test_a_key_sent_as_logging_records_line_by_line_is_masked() -> None:
    def record(message: str) -> str:
        return orjson.dumps({"level": "INFO", "logger": "etl", "message": message}).decode()

    out = feed([record("-----BEGIN RSA PRIVATE KEY-----"), record(PEM_BODY[0]),
                record("-----END RSA PRIVATE KEY-----"), record("ok")])
    parsed = [json.loads(line or "") for line in out]
    assert parsed[1] == {"level": "INFO", "logger": "etl",
                         "message": "[REDACTED:private-key]"}
    assert parsed[3]["message"] == "ok"


def pieces_of(text: str, cuts: list[int]) -> list[tuple[str, bool]]:
    bounds = [0, *sorted(set(cuts)), len(text)]
    parts = [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return [(part, i < len(parts) - 1) for i, part in enumerate(parts)]


def run_pieces(pieces: list[tuple[str, bool]], redactor: Redactor = R) -> str:
    streams = StreamRedactor(redactor)
    out = [streams.redact(("g", "s"), text, partial) for text, partial in pieces]
    return "".join(o for o in out if o is not None)


@pytest.mark.parametrize("secret, shift", [
    (f" {ACCESS_KEY} ", 0), (f" {ACCESS_KEY} ", -10), (f" {ACCESS_KEY} ", -21),
    (" password=hunter2hunter2 ", -12), (" password=hunter2hunter2 ", -1),
    (" postgresql://etl:hunter2@db/x ", -20), (f" Bearer {JWT} ", -60),
    (f" {SECRET_KEY} ", -20),
    (" -----BEGIN RSA PRIVATE KEY-----MIIEowIBAAKCAQEAu1SU1L-----END RSA PRIVATE KEY----- ",
     -40),
])
def test_a_secret_cut_in_two_by_a_piece_boundary_is_still_masked(secret: str,
                                                                  shift: int) -> None:
    filler = "x" * (3 * HOLD)
    text = filler + secret + filler
    cut = len(filler) + len(secret) // 2 + shift
    whole = R.redact(text)
    assert run_pieces(pieces_of(text, [cut])) == whole
    assert run_pieces(pieces_of(text, [cut, cut + 7, len(text) - 5])) == whole
    for word in ("AKIA", "hunter2", "eyJhbGci", "wJalrXUt", "MIIEow"):
        assert word not in whole


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=8 * HOLD), max_size=6),
       st.sampled_from([f"{ACCESS_KEY}", "password=hunter2", "postgresql://u:hunter2@h/d",
                        f"Bearer {JWT}", SECRET_KEY]),
       st.integers(min_value=0, max_value=4 * HOLD))
def test_pieces_redact_exactly_like_the_whole_line(cuts: list[int], secret: str,
                                                   position: int) -> None:
    filler = ("lorem ipsum " * (HOLD // 2))[: 4 * HOLD]
    text = filler[:position] + " " + secret + " " + filler[position:]
    cuts = [c for c in cuts if c < len(text)]
    assert run_pieces(pieces_of(text, cuts)) == R.redact(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_redaction_never_fails_on_any_text(text: str) -> None:
    redacted = R.redact(text)
    assert isinstance(redacted, str)
    streams = StreamRedactor(R)
    assert isinstance(streams.redact(("g", "s"), text), str)


SAFE_TEXT = st.text(alphabet=st.sampled_from("abc xyz012.,:;-_/()[]'\"\t"), max_size=60)


@settings(max_examples=300, deadline=None)
@given(SAFE_TEXT, SAFE_TEXT, st.sampled_from([
    ACCESS_KEY, TEMP_KEY, SECRET_KEY, JWT, GITHUB, SLACK]))
def test_a_standalone_secret_is_masked_wherever_it_stands(before: str, after: str,
                                                          secret: str) -> None:
    redacted = R.redact(f"{before} {secret} {after}")
    assert secret not in redacted


def test_custom_patterns_mask_the_match_or_its_secret_group() -> None:
    redactor = Redactor(compile_patterns([r"cust-(?P<secret>\d{8})", r"\b\d{3}-\d{2}-\d{4}\b"]))
    assert (redactor.redact("customer cust-12345678 with SSN 078-05-1120")
            == "customer cust-[REDACTED:custom] with SSN [REDACTED:custom]")
    assert redactor.redact("order 42 shipped") == "order 42 shipped"


def test_a_custom_pattern_that_takes_too_long_masks_the_whole_line() -> None:
    redactor = Redactor(compile_patterns([r"(a|aa)+$"]))
    assert redactor.redact("a" * 5000 + "b") == "[REDACTED:redaction-timeout]"


@pytest.mark.parametrize("pattern, message", [
    ("cust-(\\d{8}", "redaction pattern 1 ('cust-(\\\\d{8}') is not a valid regular expression"),
    ("x*", "matches empty text"),
    ("a" * 2001, "longer than 2000 characters"),
])
def test_bad_custom_patterns_are_refused_with_a_clear_error(pattern: str,
                                                            message: str) -> None:
    with pytest.raises(ValidationError, match="redaction pattern") as caught:
        compile_patterns(["ok", pattern][1:])
    assert message in str(caught.value)
