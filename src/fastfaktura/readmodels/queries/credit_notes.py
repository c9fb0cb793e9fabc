"""Credit notes as the read side serves them: `rm_credit_notes` rows as `CreditNoteResponse`
(credit_note_view.py), and the queries of the API (asyncpg): the gateway of `rm_credit_notes`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from asyncpg import Pool

from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.invoice_view import priced_fields
from fastfaktura.readmodels.sql import statement

# Where a credit note's public page lives (its token is the only secret, as for invoices).
PUBLIC_PATH = "/c/"


def credit_note_from_row(
    row: dict[str, Any], base_url: str, *, for_documents: bool = False
) -> CreditNoteResponse:
    """The credit note of a row. `invoice_issue_date` is for the documents (BT-26) only: the
    API's answer leaves it out (it stays UNSET)."""
    if not for_documents:
        row = {k: v for k, v in row.items() if k != "invoice_issue_date"}
    return msgspec.convert(
        {
            **row,
            **priced_fields(row),
            "public_url": f"{base_url}{PUBLIC_PATH}{row['public_token']}",
        },
        CreditNoteResponse,
        strict=False,
    )


async def find_credit_note(
    pool: Pool, business_id: UUID, credit_note_id: UUID, base_url: str
) -> CreditNoteResponse | None:
    row = await pool.fetchrow(
        statement("credit_notes", "queries.sql", "get_credit_note"), business_id, credit_note_id
    )
    return None if row is None else credit_note_from_row(dict(row), base_url)


@dataclass(frozen=True)
class StoredCreditNote:
    """A credit note for its documents and public page: whose it is, its version, and the note
    with the credited invoice's date (BT-26)."""

    business_id: UUID
    version: int
    note: CreditNoteResponse
    refunded_cents: int = 0

    @property
    def as_issued(self) -> CreditNoteResponse:
        """The note as it was issued: its documents never change, so the refund they state
        is what was owed then, whatever was refunded since."""
        return msgspec.structs.replace(
            self.note, refund_due_cents=self.note.refund_due_cents + self.refunded_cents
        )


def _stored(row: Any, base_url: str) -> StoredCreditNote | None:
    if row is None:
        return None
    return StoredCreditNote(
        business_id=row["business_id"],
        version=int(row["version"]),
        note=credit_note_from_row(dict(row), base_url, for_documents=True),
        refunded_cents=int(row["refunded_cents"]),
    )


async def find_stored_credit_note(
    pool: Pool, business_id: UUID, credit_note_id: UUID, base_url: str
) -> StoredCreditNote | None:
    row = await pool.fetchrow(
        statement("credit_notes", "queries.sql", "get_credit_note"), business_id, credit_note_id
    )
    return _stored(row, base_url)


async def find_credit_note_by_token(
    pool: Pool, token: str, base_url: str
) -> StoredCreditNote | None:
    """The credit note whose public URL holds `token` (any business), or None."""
    row = await pool.fetchrow(
        statement("credit_notes", "queries.sql", "get_credit_note_by_token"), token
    )
    return _stored(row, base_url)


async def credit_note_page(
    pool: Pool,
    business_id: UUID,
    *,
    invoice_id: UUID | None,
    page: int,
    per_page: int,
    base_url: str,
) -> tuple[list[CreditNoteResponse], int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            statement("credit_notes", "queries.sql", "list_credit_notes"),
            business_id,
            invoice_id,
            per_page,
            (page - 1) * per_page,
        )
        total = await conn.fetchval(
            statement("credit_notes", "queries.sql", "count_credit_notes"), business_id, invoice_id
        )
    return [credit_note_from_row(dict(row), base_url) for row in rows], int(total)
