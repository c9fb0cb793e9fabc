"""Domain errors. The API maps each to one RFC 9457 problem (see fastfaktura.api.errors)."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain or application raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class InvalidInputError(DomainError):
    """One or more fields are invalid (422). Carries every invalid field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class NotFoundError(DomainError):
    """The resource does not exist for this business (404, also for another tenant's id)."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found")
        self.resource = resource


class ConflictError(DomainError):
    """The request conflicts with the current state of a resource (409)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ApiKeyNotFoundError(DomainError):
    """No API key with that prefix (CLI only)."""
