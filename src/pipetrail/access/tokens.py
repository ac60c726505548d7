"""API tokens: ``pt_<token id>_<secret>``, shown once, stored as a hash of the secret.

The token id is public (it names the token in lists, the trail and revocation); the
secret is 256 random bits. Only SHA-256 of ``<token id>:<secret>`` is stored. A fast
hash is the right tool here: key-stretching functions (argon2, scrypt) protect secrets
people choose, which are guessable; a 256-bit random secret cannot be guessed, however
fast the hash, and every request is checked against the hash, so a slow function would
cost every call tens of milliseconds for no gain. Hashes are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from pipetrail.model.errors import AuthenticationError

PREFIX = "pt_"
_TOKEN = re.compile(r"pt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})\Z")


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    secret: str

    @property
    def text(self) -> str:
        """The whole token, as the client sends it (``Authorization: Bearer …``)."""
        return f"{PREFIX}{self.token_id}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.token_id, self.secret)


def issue_token() -> IssuedToken:
    return IssuedToken(secrets.token_hex(8), secrets.token_urlsafe(32))


def hash_secret(token_id: str, secret: str) -> str:
    return hashlib.sha256(f"{token_id}:{secret}".encode()).hexdigest()


def parse_token(text: str) -> IssuedToken:
    """The parts of a token as a client sent it; AuthenticationError if malformed."""
    match = _TOKEN.match(text.strip())
    if match is None:
        raise AuthenticationError("the token is not a Pipetrail API token (pt_…)")
    return IssuedToken(match.group(1), match.group(2))


def secret_matches(stored_hash: str, token: IssuedToken) -> bool:
    return hmac.compare_digest(stored_hash, token.secret_hash)
