"""The User aggregate: a person who signs in to a business's account settings (an owner).

Its id derives from the normalised email, so an email belongs to at most one user: the event
store's unique (id, version) refuses a second user with the same email, even in a race.
Passwords arrive already hashed (Argon2id, by an adapter): the domain never sees a password.
A one-time link to set the password is kept as the SHA-256 of its secret, with its expiry; the
password it sets (or any later one) uses it up.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from fastfaktura.domain.errors import DomainError
from fastfaktura.domain.rules import is_email

_USER_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/user")
ROLES: Final = ("owner",)
# Long enough to resist guessing at the sign-in's throttled pace; short enough to hash cheaply.
PASSWORD_MIN_LENGTH: Final = 10
PASSWORD_MAX_LENGTH: Final = 256


class PasswordLinkInvalid(DomainError):
    """The link is unknown, used already, or expired (all the same to whoever holds it)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why `email` cannot be a user's email, or None."""
    return None if is_email(normalise_email(email)) else "must be a valid email address"


def password_problem(password: str) -> str | None:
    """Why `password` cannot be a password, or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"must be at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"must be at most {PASSWORD_MAX_LENGTH} characters"
    if not password.strip():
        return "may not be only spaces"
    return None


def user_id_for(email: str) -> UUID:
    return uuid5(_USER_NAMESPACE, normalise_email(email))


def new_link_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_link_secret(secret: str) -> str:
    """Link secrets are 256 random bits: a plain SHA-256 is enough (like API keys)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class User(Aggregate):
    TOPIC = "fastfaktura:User"

    @event("Created", topic="fastfaktura:User.Created")
    def __init__(self, business_id: UUID, email: str, role: str) -> None:
        self.business_id = business_id
        self.email = email
        self.role = role
        self.password_hash: str | None = None
        self.password_set_at: datetime | None = None
        self.link_hash: str | None = None
        self.link_expires_at: datetime | None = None

    @staticmethod
    def create_id(email: str, **_: object) -> UUID:
        return user_id_for(email)

    @classmethod
    def register(cls, business_id: UUID, email: str, role: str = "owner") -> User:
        problem = email_problem(email)
        if problem is not None or role not in ROLES:
            raise ValueError(problem or f"unknown role {role!r}")
        return cls(business_id=business_id, email=normalise_email(email), role=role)

    def set_password(self, password_hash: str, at: datetime) -> None:
        self._password_set(password_hash=password_hash, set_at=at)

    @event("PasswordSet", topic="fastfaktura:User.PasswordSet")
    def _password_set(self, password_hash: str, set_at: datetime) -> None:
        self.password_hash = password_hash
        self.password_set_at = set_at
        # Any outstanding link is used up: a link sets a password once.
        self.link_hash = None
        self.link_expires_at = None

    def issue_password_link(self, link_hash: str, expires_at: datetime) -> None:
        """A new link replaces any earlier one."""
        self._password_link_issued(link_hash=link_hash, expires_at=expires_at)

    @event("PasswordLinkIssued", topic="fastfaktura:User.PasswordLinkIssued")
    def _password_link_issued(self, link_hash: str, expires_at: datetime) -> None:
        self.link_hash = link_hash
        self.link_expires_at = expires_at

    def check_password_link(self, link_hash: str, now: datetime) -> None:
        if (
            self.link_hash is None
            or self.link_expires_at is None
            or not secrets.compare_digest(self.link_hash, link_hash)
            or now >= self.link_expires_at
        ):
            raise PasswordLinkInvalid("the link is unknown, used or expired")

    def set_password_with_link(self, link_hash: str, password_hash: str, now: datetime) -> None:
        self.check_password_link(link_hash, now)
        self.set_password(password_hash, now)


def link_token(user_id: UUID, secret: str) -> str:
    """What a one-time link carries: the user's id (to find it) and the secret (to prove it)."""
    return f"{user_id.hex}.{secret}"


def parse_link_token(token: str) -> tuple[UUID, str] | None:
    user_hex, _, secret = token.partition(".")
    if len(user_hex) != 32 or not secret or len(secret) > 100:
        return None
    try:
        return UUID(hex=user_hex), secret
    except ValueError:
        return None
