"""The key that signs digests: Ed25519, kept under ``PIPETRAIL_HOME/keys``.

A digest's signature covers, as in CloudTrail, the UTF-8 text
``digestEndTime \\n bucket/key \\n hex(SHA-256(digest)) \\n previousDigestSignature``
(the literal ``null`` for a chain's first digest). Keys are named by their fingerprint,
the hex SHA-256 of the public key's DER (SubjectPublicKeyInfo) encoding.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipetrail.model.errors import ConfigError, ValidationError

ALGORITHM = "Ed25519"


def signed_text(digest_end: str, bucket: str, key: str, digest_hash: str,
                previous_signature: str | None) -> bytes:
    return "\n".join([digest_end, f"{bucket}/{key}", digest_hash,
                      previous_signature or "null"]).encode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ValidationError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError("the public key is not an Ed25519 key")
    return key


def fingerprint(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def verify(public_key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def public_pem(self) -> str:
        return public_pem(self.public_key)

    def sign(self, message: bytes) -> str:
        return self.private_key.sign(message).hex()

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """The key at ``path``; a new one is made there (mode 0600) if there is none."""
        if not path.exists():
            return cls._create(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot load the signing key {path}: "
                              f"{getattr(exc, 'strerror', None) or 'not a PEM private key'}"
                              ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"the signing key {path} is not an Ed25519 key")
        return cls(key)

    @classmethod
    def _create(cls, path: Path) -> Signer:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(f".{path.name}.{os.getpid()}")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, path)  # never replaces a key another process made
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot create the signing key {path}: {exc.strerror}") from None
        return cls.load_or_create(path)
