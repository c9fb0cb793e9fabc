"""Password hashes: Argon2id, by default with RFC 9106's second recommended parameters (64 MiB,
3 passes, 4 lanes; AccountSettings sets them), each hash with its own salt and its parameters
in it: a hash verifies with the cost it was made with, whatever the setting is now.

`verify` spends the same work for an unknown email (against a fixed hash made with the current
cost), so the time of a sign-in does not tell whether an account exists."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fastfaktura.config import AccountSettings


def _cost(settings: AccountSettings) -> tuple[int, int, int]:
    return (
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    # Argon2id is argon2-cffi's default type
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@cache
def _decoy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    hasher = _hasher(time_cost, memory_kib, parallelism)
    return hasher.hash("not the password of anyone: only spends the time of a verify")


def hash_password(password: str, settings: AccountSettings) -> str:
    return _hasher(*_cost(settings)).hash(password)


def verify(password_hash: str | None, password: str, settings: AccountSettings) -> bool:
    """Whether `password` matches; None (no such user, or no password yet) never matches."""
    try:
        ok = _hasher(*_cost(settings)).verify(
            password_hash or _decoy_hash(*_cost(settings)), password
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None
