"""What an invoice's issuing event records about its documents (adapters/pdf/issued.py): kept
apart, with nothing heavy imported, for `audit verify` (adapters/document_verify.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastfaktura.domain.invoice import Invoice

# The event that issues an invoice (its first send) and records its documents' digests.
SENT_TOPIC: str = Invoice.Sent.TOPIC  # type: ignore[attr-defined]


def digest(content: bytes) -> str:
    """A document's SHA-256 in lowercase hex (its strong ETag, and what the event records)."""
    return hashlib.sha256(content).hexdigest()


def recorded_digests(state: bytes) -> dict[str, str] | None:
    """The digests a stored `sent` event records (None: sent before documents were recorded)."""
    documents: Any = json.loads(state).get("documents")
    return dict(documents) if isinstance(documents, dict) else None
