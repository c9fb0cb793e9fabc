"""Commands on users: sign-up (a sandbox business and its owner), an owner added to a
business with a one-time link to set a password, and that link used.

Passwords arrive hashed (the composition roots hash them with adapters/passwords.py): the
write side stores and compares hashes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from fastfaktura.application.base import Decided, WriteModel, Written
from fastfaktura.domain.business import Business
from fastfaktura.domain.errors import EmailTaken
from fastfaktura.domain.sample_profile import sandbox_profile
from fastfaktura.domain.user import (
    PasswordLinkInvalid,
    User,
    hash_link_secret,
    link_token,
    new_link_secret,
    user_id_for,
)


@dataclass(frozen=True)
class PasswordLink:
    """A one-time link's token (shown once: only its hash is stored) and its expiry."""

    user: User
    token: str
    expires_at: datetime


class UserCommands(WriteModel):
    def sign_up(self, name: str, email: str, password_hash: str) -> Written[User]:
        """A new sandbox business and its owner, signed up with a password, in one write."""

        def attempt() -> Decided[User]:
            if self.find(User, user_id_for(email)) is not None:
                raise EmailTaken()
            business = Business.register(name=name, mode="sandbox", **sandbox_profile({}))
            user = User.register(business.id, email)
            user.set_password(password_hash, self.clock())
            return Decided(user, (business, user))

        return self._command(attempt)

    def add_owner(
        self, business_id: UUID, email: str, link_valid: timedelta
    ) -> Written[PasswordLink]:
        """An owner for an existing business, without a password yet: the link sets it."""
        business = self.get(Business, business_id)

        def attempt() -> Decided[PasswordLink]:
            if self.find(User, user_id_for(email)) is not None:
                raise EmailTaken()
            user = User.register(business.id, email)
            link = self._new_link(user, link_valid)
            return Decided(link, (user,))

        return self._command(attempt)

    def issue_password_link(self, email: str, link_valid: timedelta) -> Written[PasswordLink]:
        """A fresh one-time link for a user (any earlier link stops working)."""

        def attempt() -> Decided[PasswordLink]:
            user = self.get(User, user_id_for(email))
            return Decided(self._new_link(user, link_valid), (user,))

        return self._command(attempt)

    def set_password_with_link(
        self, user_id: UUID, secret: str, password_hash: str
    ) -> Written[User]:
        """Raises PasswordLinkInvalid for an unknown user, a wrong, used or expired link."""

        def attempt() -> Decided[User]:
            user = self.find(User, user_id)
            if user is None:
                raise PasswordLinkInvalid("no such link")
            user.set_password_with_link(hash_link_secret(secret), password_hash, self.clock())
            return Decided(user, (user,))

        return self._command(attempt)

    def _new_link(self, user: User, link_valid: timedelta) -> PasswordLink:
        secret = new_link_secret()
        expires_at = self.clock() + link_valid
        user.issue_password_link(hash_link_secret(secret), expires_at)
        return PasswordLink(user, link_token(user.id, secret), expires_at)
