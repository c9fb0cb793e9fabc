"""Argon2id password hashes: salted, self-describing, verified in constant work."""

from __future__ import annotations

import pytest

from fastfaktura.adapters.passwords import hash_password, verify
from fastfaktura.config import AccountSettings

# The documented defaults, which production runs with (the suite runs cheaper: tests/conftest.py).
PRODUCTION = AccountSettings()
CHEAPEST = {
    "FASTFAKTURA_PASSWORD_HASH_TIME_COST": "1",
    "FASTFAKTURA_PASSWORD_HASH_MEMORY_KIB": "8",
    "FASTFAKTURA_PASSWORD_HASH_PARALLELISM": "1",
}


def test_hashes_are_argon2id_salted_and_verify_only_the_password() -> None:
    first = hash_password("correct horse battery", PRODUCTION)
    second = hash_password("correct horse battery", PRODUCTION)
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # each hash has its own salt
    assert verify(first, "correct horse battery", PRODUCTION)
    assert verify(second, "correct horse battery", PRODUCTION)
    assert not verify(first, "correct horse batterY", PRODUCTION)
    assert not verify(first, "", PRODUCTION)


def test_no_hash_or_a_broken_hash_never_matches() -> None:
    assert not verify(None, "anything at all", PRODUCTION)
    assert not verify("", "anything at all", PRODUCTION)
    assert not verify("$argon2id$broken", "anything at all", PRODUCTION)
    assert not verify("plain text password", "plain text password", PRODUCTION)


def test_the_cost_comes_from_the_environment_and_each_hash_verifies_with_its_own() -> None:
    assert AccountSettings.from_env({}) == PRODUCTION
    cheap = AccountSettings.from_env(CHEAPEST)
    made_cheap = hash_password("correct horse battery", cheap)
    assert made_cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    # A change of the setting leaves the hashes already stored valid, both ways.
    made_dear = hash_password("correct horse battery", PRODUCTION)
    assert verify(made_dear, "correct horse battery", cheap)
    assert verify(made_cheap, "correct horse battery", PRODUCTION)
    assert not verify(None, "correct horse battery", cheap)
    with pytest.raises(ValueError, match="MEMORY_KIB"):
        AccountSettings.from_env({**CHEAPEST, "FASTFAKTURA_PASSWORD_HASH_PARALLELISM": "2"})
    with pytest.raises(ValueError, match="FASTFAKTURA_PASSWORD_HASH_TIME_COST"):
        AccountSettings.from_env({"FASTFAKTURA_PASSWORD_HASH_TIME_COST": "0"})
