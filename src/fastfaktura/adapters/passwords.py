"""Password hashes: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
parameters: 64 MiB, 3 passes, 4 lanes), each hash with its own salt and parameters in it.

`verify` spends the same work for an unknown email (against a fixed hash), so the time of a
sign-in does not tell whether an account exists."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # Argon2id is argon2-cffi's default type


@cache
def _decoy_hash() -> str:
    return _hasher().hash("not the password of anyone: only spends the time of a verify")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; None (no such user, or no password yet) never matches."""
    try:
        ok = _hasher().verify(password_hash or _decoy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None
