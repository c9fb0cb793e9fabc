"""What an issuing event records about its documents (adapters/pdf/issued.py for invoices,
credit_notes.py for credit notes): kept apart, with nothing heavy imported, for `audit verify`
(adapters/document_verify.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.invoice import Invoice

# The event that issues an invoice (its first send) and records its documents' digests.
SENT_TOPIC: str = Invoice.Sent.TOPIC  # type: ignore[attr-defined]
# The event that issues a credit note, which records its documents' digests (credit_notes.py).
CREDIT_NOTE_ISSUED_TOPIC: str = CreditNote.Issued.TOPIC  # type: ignore[attr-defined]
# Issuing event topic -> what it issues, as `audit verify` names it.
ISSUING_TOPICS: dict[str, str] = {SENT_TOPIC: "invoice", CREDIT_NOTE_ISSUED_TOPIC: "credit note"}


def digest(content: bytes) -> str:
    """A document's SHA-256 in lowercase hex (its strong ETag, and what the event records)."""
    return hashlib.sha256(content).hexdigest()


def recorded_digests(state: bytes) -> dict[str, str] | None:
    """The digests a stored issuing event records (None: issued before documents were
    recorded)."""
    documents: Any = json.loads(state).get("documents")
    return dict(documents) if isinstance(documents, dict) else None
