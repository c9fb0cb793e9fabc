"""Argon2id password hashes: salted, self-describing, verified in constant work."""

from __future__ import annotations

from fastfaktura.adapters.passwords import hash_password, verify


def test_hashes_are_argon2id_salted_and_verify_only_the_password() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # each hash has its own salt
    assert verify(first, "correct horse battery")
    assert verify(second, "correct horse battery")
    assert not verify(first, "correct horse batterY")
    assert not verify(first, "")


def test_no_hash_or_a_broken_hash_never_matches() -> None:
    assert not verify(None, "anything at all")
    assert not verify("", "anything at all")
    assert not verify("$argon2id$broken", "anything at all")
    assert not verify("plain text password", "plain text password")
