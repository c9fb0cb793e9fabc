"""Domain errors. The API maps each to one RFC 9457 problem (see fastfaktura.api.errors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain or application raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    # The code of the legal rule broken (EN 16931, Peppol, BR-FR...), for the legal checks.
    rule: str | None = None


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


# Conflicts named after the rule they guard; the API edge names their fields
# (api/domain_errors.py, CONFLICT_FIELDS).


class ExternalIdTaken(ConflictError):
    """A business's live clients have distinct external ids."""

    def __init__(self, external_id: str) -> None:
        super().__init__(f"external_id {external_id!r} is already used by another client")
        self.external_id = external_id


class ProfileFieldsNotEditable(ConflictError):
    """A business changes only the editable fields of its profile."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = sorted(fields)
        super().__init__(f"fields are not editable: {self.fields}")


class ApiKeyNotFoundError(NotFoundError):
    """No API key with that prefix (of that business, when one is given)."""

    def __init__(self, prefix: str) -> None:
        super().__init__("api key")
        self.prefix = prefix


# -- business rules ---------------------------------------------------------------------------
# Each error is named after the rule it guards and says nothing of HTTP or JSON: the API maps
# each one to the field it is about (fastfaktura.api.domain_errors).


class RuleBroken(DomainError):
    """A business rule refused the command; nothing was recorded."""


class RulesBroken(DomainError):
    """Several rules refused the command at once (all reported in one answer)."""

    def __init__(self, rules: list[RuleBroken]) -> None:
        super().__init__("; ".join(str(rule) for rule in rules))
        self.rules = rules


class LineCountOutOfRange(RuleBroken):
    def __init__(self, count: int, maximum: int) -> None:
        super().__init__(f"an invoice holds 1 to {maximum} lines, not {count}")
        self.count = count
        self.maximum = maximum


class LineAmountTooLarge(RuleBroken):
    def __init__(self, index: int, maximum_cents: int) -> None:
        super().__init__(f"line {index}: quantity * unit price exceeds {maximum_cents} cents")
        self.index = index
        self.maximum_cents = maximum_cents


class InvoiceAmountTooLarge(RuleBroken):
    def __init__(self, maximum_cents: int) -> None:
        super().__init__(f"the invoice's amounts exceed {maximum_cents} cents")
        self.maximum_cents = maximum_cents


class NegativeTotal(RuleBroken):
    def __init__(self) -> None:
        super().__init__("the invoice total may not be negative")


class DueDateBeforeIssueDate(RuleBroken):
    def __init__(self) -> None:
        super().__init__("the due date may not be before the issue date")


class InvoicedClientUnknown(RuleBroken):
    """An invoice is for a client of the same business."""

    def __init__(self) -> None:
        super().__init__("no such client")


class InvoicedClientArchived(RuleBroken):
    """An archived client is not invoiced any more."""

    def __init__(self) -> None:
        super().__init__("the client is archived")


class PaymentOutsideAmountDue(RuleBroken):
    """A payment is at least one cent and at most the amount due."""

    def __init__(self, amount_cents: int, amount_due_cents: int) -> None:
        # Worded for the operators who read it in the Stripe inbox's outcome.
        super().__init__(f"amount_cents must be 1 to {amount_due_cents} (the amount due)")
        self.amount_cents = amount_cents
        self.amount_due_cents = amount_due_cents


class UnknownDelivery(RuleBroken):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no such delivery for this document: {delivery_id}")
        self.delivery_id = delivery_id


class ChannelWithoutAddress(RuleBroken):
    """A channel needs the client's address for it (email, phone)."""

    def __init__(self, channel: str, detail: str) -> None:
        super().__init__(f"{channel} needs the client's {detail}")
        self.channel = channel
        self.detail = detail


class ClientNameRequired(RuleBroken):
    def __init__(self) -> None:
        super().__init__("a client needs a name that is not blank")


class EmailTaken(RuleBroken):
    """An email signs in to one account only."""

    def __init__(self) -> None:
        super().__init__("the email is already used by an account")


# -- credit notes -------------------------------------------------------------------------------


class CreditReasonRequired(RuleBroken):
    def __init__(self) -> None:
        super().__init__("a credit note needs a reason that is not blank")


class CreditLineNotPositive(RuleBroken):
    """A credit note's own lines credit amounts: each unit price is above zero."""

    def __init__(self, index: int) -> None:
        super().__init__(f"line {index}: a credited amount must be above zero")
        self.index = index


class CreditAboveCreditable(RuleBroken):
    """A credit note credits at least a cent and at most what earlier ones left."""

    def __init__(self, amount_cents: int, creditable_cents: int) -> None:
        super().__init__(
            f"the credit note's total ({amount_cents}) must be 1 to {creditable_cents} cents"
            " (the invoice total minus earlier credit notes)"
        )
        self.amount_cents = amount_cents
        self.creditable_cents = creditable_cents


class RefundAboveDue(RuleBroken):
    """A refund is at least one cent and at most what the credit note still owes back."""

    def __init__(self, amount_cents: int, refund_due_cents: int) -> None:
        super().__init__(f"amount_cents must be 1 to {refund_due_cents} (the refund due)")
        self.amount_cents = amount_cents
        self.refund_due_cents = refund_due_cents


class CreditRateNotInvoiced(RuleBroken):
    """A credit note corrects the VAT the invoice charged: at the invoice's rates only, and
    never more base at a rate than is left of it."""

    def __init__(self, index: int, rate: str, base_left_cents: int | None) -> None:
        left = (
            "not a rate of the invoice"
            if base_left_cents is None
            else (f"{base_left_cents} cents of base left at that rate")
        )
        super().__init__(f"line {index}: VAT rate {rate} %: {left}")
        self.index = index
        self.rate = rate
        self.base_left_cents = base_left_cents


# -- legal checks before issue (domain/einvoice_rules) -------------------------------------------


class LegalRuleBroken(RuleBroken):
    """The document would break a legal rule if issued: its code, the API field it is about
    (the rule engine names it, in the API's paths) and a message."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message
