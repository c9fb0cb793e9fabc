"""Users on the in-memory store: sign-up (a sandbox business and its owner), one user per
email whatever its case, an owner added with a one-time link that sets a password once, before
it expires."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fastfaktura.application import Invoicing
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import EmailTaken, NotFoundError
from fastfaktura.domain.user import (
    PasswordLinkInvalid,
    User,
    email_problem,
    parse_link_token,
    password_problem,
    user_id_for,
)
from tests.unit.application.conftest import Clock, SharedStore

DAY = timedelta(hours=24)


def test_sign_up_records_a_sandbox_business_and_its_owner_with_the_hash(app: Invoicing) -> None:
    user = app.sign_up("Fjord Design AS", " Kari@Fjord.Example ", "$argon2id$hash").value
    assert user.email == "kari@fjord.example"
    assert user.id == user_id_for("KARI@fjord.example")
    assert (user.role, user.password_hash) == ("owner", "$argon2id$hash")
    business = app.get(Business, user.business_id)
    assert (business.name, business.mode) == ("Fjord Design AS", "sandbox")
    stored = app.get(User, user.id)
    assert stored.password_hash == "$argon2id$hash"
    assert stored.business_id == business.id


def test_an_email_signs_up_once_whatever_its_case_and_a_refusal_stores_nothing(
    app: Invoicing, store: SharedStore
) -> None:
    app.sign_up("First AB", "owner@first.example", "h1")
    inserts = store.inserts
    with pytest.raises(EmailTaken):
        app.sign_up("Second AB", "OWNER@First.Example", "h2")
    assert store.inserts == inserts


def test_a_sign_up_racing_another_for_the_same_email_is_refused_not_retried_forever(
    app: Invoicing, other_process: Invoicing, store: SharedStore
) -> None:
    store.before_next_insert.append(lambda: other_process.sign_up("Rival", "race@x.example", "r"))
    with pytest.raises(EmailTaken):
        app.sign_up("Mine", "race@x.example", "m")
    assert app.get(User, user_id_for("race@x.example")).password_hash == "r"


def test_an_owner_is_added_without_password_and_its_link_sets_one_once(
    app: Invoicing, clock: Clock
) -> None:
    business = app.register_business("Link Oy", "sandbox").value.business_id
    link = app.add_owner(business, "Eva@Link.Example", DAY).value
    assert link.expires_at == clock.now + DAY
    assert (link.user.business_id, link.user.password_hash) == (business, None)
    parsed = parse_link_token(link.token)
    assert parsed is not None
    user_id, secret = parsed
    assert user_id == user_id_for("eva@link.example")

    with pytest.raises(PasswordLinkInvalid):
        app.set_password_with_link(user_id, secret[:-1] + "x", "wrong")
    app.set_password_with_link(user_id, secret, "$argon2id$eva")
    assert app.get(User, user_id).password_hash == "$argon2id$eva"
    with pytest.raises(PasswordLinkInvalid):  # used up
        app.set_password_with_link(user_id, secret, "$argon2id$again")
    assert app.get(User, user_id).password_hash == "$argon2id$eva"


def test_a_link_expires_and_a_new_one_replaces_the_old(app: Invoicing, clock: Clock) -> None:
    business = app.register_business("Expiry AB", "sandbox").value.business_id
    first = parse_link_token(app.add_owner(business, "sam@expiry.example", DAY).value.token)
    assert first is not None
    clock.advance(hours=24)
    with pytest.raises(PasswordLinkInvalid):
        app.set_password_with_link(*first, "late")
    second = parse_link_token(app.issue_password_link("sam@expiry.example", DAY).value.token)
    assert second is not None
    with pytest.raises(PasswordLinkInvalid):  # the old one stays dead
        app.set_password_with_link(*first, "old")
    app.set_password_with_link(*second, "$argon2id$sam")
    assert app.get(User, second[0]).password_hash == "$argon2id$sam"


def test_an_owner_needs_an_existing_business_and_a_free_email(app: Invoicing) -> None:
    with pytest.raises(NotFoundError):
        app.add_owner(user_id_for("nobody"), "a@b.example", DAY)
    taken = app.sign_up("Taken SA", "taken@x.example", "h").value
    with pytest.raises(EmailTaken):
        app.add_owner(taken.business_id, "Taken@X.example", DAY)


def test_a_link_of_an_unknown_user_or_a_malformed_token_opens_nothing(app: Invoicing) -> None:
    with pytest.raises(PasswordLinkInvalid):
        app.set_password_with_link(user_id_for("ghost@x.example"), "secret", "h")
    for token in ("", "nodot", "zz" * 16 + ".s", "0" * 31 + ".s", "0" * 32 + "."):
        assert parse_link_token(token) is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "must be at least 10 characters"),
        (" " * 12, "may not be only spaces"),
        ("x" * 257, "must be at most 256 characters"),
        ("long enough pass", None),
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    assert password_problem(password) == problem


def test_email_rules() -> None:
    assert email_problem(" Ok@Example.COM ") is None
    assert email_problem("not-an-email") == "must be a valid email address"
    with pytest.raises(ValueError, match="valid email"):
        User.register(user_id_for("x"), "nope")
