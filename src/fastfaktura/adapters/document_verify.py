"""`audit verify`, documents: every stored document an issuing event names must hash to the
SHA-256 that event records (adapters/pdf/issued.py). The events' bytes are the chain's to prove
(chain_verify.py); this proves the documents are the ones those events issued.

Run in verify's snapshot, after the chain scan has collected the issuing events' digests. The
stored bytes are hashed here, in Python, a page at a time (never the database's own digest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from fastfaktura.adapters.pdf.digests import ISSUING_TOPICS, recorded_digests

PAGE = 50  # documents per round trip (PDFs: tens of kB each)


@dataclass(frozen=True)
class Issued:
    """What an issuing event records: whose, its version, the digests by kind, and what it
    issues ("invoice", "credit note")."""

    business_id: bytes
    version: int
    digests: dict[str, str]
    issues: str = "invoice"


@dataclass(frozen=True)
class DocumentBreak:
    business_id: UUID
    invoice_id: UUID  # the document's: an invoice's or a credit note's id (`issues`)
    kind: str
    version: int
    reason: str
    issues: str = "invoice"

    def __str__(self) -> str:
        return (
            f"business {self.business_id}: {self.issues} {self.invoice_id} document {self.kind}"
            f" (issued by its event version {self.version}) {self.reason}"
        )


@dataclass
class DocumentCheck:
    checked: int = 0  # stored documents whose bytes hash to the digest their event records
    unrecorded: int = 0  # stored documents whose invoice's events record no digest for them
    breaks: list[DocumentBreak] = field(default_factory=list)


def collect_issuing(issuing: dict[bytes, Issued], row: tuple[Any, ...]) -> None:
    """Keep the digests of an issuing event (a chain scan row: business, position, link,
    aggregate id, version, topic, state), if it records any."""
    issues = ISSUING_TOPICS.get(row[5])
    if issues is not None and b'"documents"' in row[6]:
        digests = recorded_digests(bytes(row[6]))
        if digests:
            issuing[bytes(row[3])] = Issued(bytes(row[0]), int(row[4]), digests, issues)


def check_documents(
    conn: psycopg.Connection[Any], issuing: dict[bytes, Issued], business_id: UUID | None
) -> DocumentCheck:
    check = DocumentCheck()
    found: set[tuple[bytes, str]] = set()
    where = "WHERE business_id = %s" if business_id else ""
    with conn.cursor(name="issued_documents_scan", binary=True) as cursor:
        cursor.execute(
            "SELECT uuid_send(business_id), uuid_send(document_id), kind, sha256, content"
            f" FROM issued_documents {where} ORDER BY business_id, document_id, kind",
            (business_id,) if business_id else (),
        )
        while rows := cursor.fetchmany(PAGE):
            for business, document, kind, sha256, content in rows:
                issued = issuing.get(document)
                recorded = issued.digests.get(kind) if issued else None
                if issued is None or recorded is None:
                    # Issued before digests were recorded, or a row a lost send left behind.
                    check.unrecorded += 1
                    continue
                if sha256 != recorded:
                    continue  # rendered by a send that lost a race: never served
                found.add((document, kind))
                if hashlib.sha256(content).hexdigest() == recorded:
                    check.checked += 1
                else:
                    check.breaks.append(
                        _break(
                            business,
                            document,
                            kind,
                            issued,
                            "has changed: its stored bytes do not match the SHA-256 its"
                            f" issuing event records ({recorded})",
                        )
                    )
    # Credit notes issued before their documents were recorded: a PDF and its CII per row.
    old = conn.execute(
        f"SELECT count(*) FROM credit_note_documents {where}",
        (business_id,) if business_id else (),
    ).fetchone()
    check.unrecorded += 2 * int(old[0]) if old else 0
    for document, issued in issuing.items():
        for kind, recorded in issued.digests.items():
            if (document, kind) not in found:
                check.breaks.append(
                    _break(
                        issued.business_id,
                        document,
                        kind,
                        issued,
                        f"is missing: no stored document has the SHA-256 its issuing event"
                        f" records ({recorded})",
                    )
                )
    return check


def _break(
    business: bytes, document: bytes, kind: str, issued: Issued, reason: str
) -> DocumentBreak:
    return DocumentBreak(
        UUID(bytes=business), UUID(bytes=document), kind, issued.version, reason, issued.issues
    )
