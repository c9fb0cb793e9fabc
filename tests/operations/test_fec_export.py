"""`audit export --format fec`: a business's journal of a year from its events, on the suite's
PostgreSQL store, checked against the FEC's rules (art. A47 A-1 LPF; docs/audit.md): the
header and 18 columns, dates, decimal commas, balanced entries, gapless entry numbers per
journal, only the year's entries, no other business's; and a small case byte for byte."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.application import Invoicing
from fastfaktura.domain.pricing import InvoiceLine
from tests.helpers import run_cli

HEADER = (
    "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\t"
    "CompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\t"
    "ValidDate\tMontantdevise\tIdevise"
)
SIREN = "732829320"


class Clock:
    """The application's clock (issue dates), set by the test; event times stay real."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def on(self, day: str) -> None:
        self.now = datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def books(database_url: str, clock: Clock) -> Iterator[Invoicing]:
    env = ConnectionParams.from_url(database_url).eventsourcing_env(pool_size=2, max_overflow=2)
    app = Invoicing(env, clock=clock)
    try:
        yield app
    finally:
        app.close()


def line(cents: int, rate: str, quantity: str = "1") -> InvoiceLine:
    return InvoiceLine("Work\tdone\nwell", Decimal(quantity), cents, Decimal(rate))


def new_business(app: Invoicing, name: str, company_id: str | None = SIREN) -> UUID:
    return app.register_business(name, "sandbox", company_id=company_id).value.business_id


def issued(app: Invoicing, business: UUID, client: UUID, *lines: InvoiceLine) -> UUID:
    invoice = app.create_invoice(business, client_id=client, currency="EUR", lines=list(lines))
    app.send_invoice(business, invoice.value.id, ["link"])
    return invoice.value.id


def paid(app: Invoicing, business: UUID, invoice: UUID, cents: int, day: str) -> None:
    at = datetime.fromisoformat(f"{day}T09:30:00+00:00")
    app.record_payment(business, invoice, amount_cents=cents, method="transfer", paid_at=at)


def export(database_url: str, business: UUID, year: int, *extra: str) -> str:
    done = run_cli(
        database_url, "audit", "export", "--business", str(business), "--year", str(year), *extra
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def rows_of(text: str) -> list[list[str]]:
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert lines[0] == HEADER
    return [row.split("\t") for row in lines[1:]]


def cents(amount: str) -> int:
    assert re.fullmatch(r"\d+,\d\d", amount), amount
    return int(amount.replace(",", ""))


def test_a_year_of_fec_follows_the_format_and_holds_only_that_years_entries(
    books: Invoicing, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    business = new_business(books, "Ledger SARL")
    other = new_business(books, "Other SAS")
    acme = books.register_client(business, {"name": "Acme\tSARL", "country": "FR"}).value.id
    beta = books.register_client(business, {"name": "Béta & Fils", "country": "FR"}).value.id
    stranger = books.register_client(other, {"name": "Stranger", "country": "FR"}).value.id

    clock.on("2025-12-30")  # the year before: its invoice, and a payment of it in each year
    before = issued(books, business, acme, line(10000, "20"))
    paid(books, business, before, 5000, "2025-12-31")
    clock.on("2026-02-03")
    mixed = issued(books, business, acme, line(33333, "20", "2.5"), line(1999, "5.5", "3"))
    books.create_invoice(business, client_id=beta, currency="EUR", lines=[line(500, "20")])
    paid(books, business, before, 7000, "2026-01-05")
    paid(books, business, mixed, 20000, "2026-02-10")
    clock.on("2026-03-15")
    partial = books.issue_credit_note(business, mixed, reason="r", lines=[line(5000, "5.5")])
    cancelled = issued(books, business, beta, line(4000, "0"), line(2000, "10"))
    books.cancel_invoice(business, cancelled, "mistake")
    clock.on("2026-06-01")
    refunded = issued(books, business, beta, line(25000, "20"))
    paid(books, business, refunded, 30000, "2026-06-02")
    full = books.issue_credit_note(business, refunded, reason="returned").value  # owes 30000
    at = datetime.fromisoformat("2026-06-05T08:00:00+00:00")
    books.record_refund(business, full.id, amount_cents=10000, method="transfer", refunded_at=at)
    clock.on("2027-01-02")  # the year after
    issued(books, business, acme, line(999, "20"))
    clock.on("2026-05-05")  # the other business, in the same year
    theirs = issued(books, other, stranger, line(77700, "20"))
    paid(books, other, theirs, 93240, "2026-05-06")

    done = run_cli(
        database_url,
        "audit",
        "export",
        "--business",
        str(business),
        "--year",
        "2026",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout == ""
    written = tmp_path / f"{SIREN}FEC20261231.txt"
    assert [p.name for p in tmp_path.iterdir()] == [written.name]
    raw = written.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")  # strict: UTF-8 or an error
    assert text == export(database_url, business, 2026)  # stdout: the same bytes
    rows = rows_of(text)
    assert all(len(row) == 18 for row in rows)
    assert "Béta & Fils" in text
    assert "Acme SARL" in text  # the tab inside became a space

    entries: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    order: list[tuple[str, str]] = []
    for row in rows:
        for field in (3, 9, 15):  # EcritureDate, PieceDate, ValidDate
            assert re.fullmatch(r"\d{8}", row[field]), row
            datetime.strptime(row[field], "%Y%m%d")
        assert row[3].startswith("2026"), row
        debit, credit = cents(row[11]), cents(row[12])
        assert (debit == 0) != (credit == 0), row
        assert row[13:15] == ["", ""]
        assert row[16:] == ["", ""]
        assert re.fullmatch(r"\d{3}\d*", row[4])
        key = (row[0], row[2])
        if key not in order:
            order.append(key)
        else:
            assert order[-1] == key, "an entry's lines are contiguous"
        entries[key].append(row)
    for key, lines in entries.items():
        assert sum(cents(r[11]) for r in lines) == sum(cents(r[12]) for r in lines), key
        assert len({(r[1], r[3], r[8], r[9], r[15]) for r in lines}) == 1, key
    per_journal: dict[str, list[str]] = defaultdict(list)
    for journal, number in order:
        per_journal[journal].append(number)
    assert per_journal == {
        "VE": [f"VE2026-{n:06d}" for n in range(1, len(per_journal["VE"]) + 1)],
        "BQ": [f"BQ2026-{n:06d}" for n in range(1, len(per_journal["BQ"]) + 1)],
    }
    for journal in ("VE", "BQ"):
        days = [entries[(journal, n)][0][3] for n in per_journal[journal]]
        assert days == sorted(days)

    numbers = {i: books.repository.get(i).number for i in (before, mixed, cancelled, refunded)}
    sales = {entries[k][0][8] for k in order if k[0] == "VE"}
    notes = {n for n in sales if n.startswith("A")}
    # Three invoices sent in 2026 (not the draft, not 2025's or 2027's), three credit notes:
    # the partial one, the cancel's, the full one.
    assert sales - notes == {numbers[mixed], numbers[cancelled], numbers[refunded]}
    assert len(notes) == 3
    bank = sorted((entries[k][0][8], entries[k][0][3]) for k in order if k[0] == "BQ")
    assert bank == sorted(
        [
            (numbers[before], "20260105"),
            (numbers[mixed], "20260210"),
            (numbers[refunded], "20260602"),
            (full.number, "20260605"),
        ]
    )
    auxiliaries = {r[6] for r in rows if r[6]}
    assert auxiliaries == {str(acme), str(beta)}  # never the other business's client
    assert all(r[4] == "411000" for r in rows if r[6])

    # What the sales journal says adds up: invoices minus credit notes, per account.
    def balance(account: str) -> int:
        return sum(cents(r[12]) - cents(r[11]) for r in rows if r[4] == account and r[0] == "VE")

    invoiced = [books.repository.get(i) for i in (mixed, cancelled, refunded)]
    credited = [books.repository.get(c) for c in _credit_notes(books, business, invoiced)]
    assert balance("706000") == sum(i.subtotal_cents for i in invoiced) - sum(
        c.subtotal_cents for c in credited
    )
    assert balance("445710") == sum(i.tax_cents for i in invoiced) - sum(
        c.tax_cents for c in credited
    )
    assert -balance("411000") == sum(i.total_cents for i in invoiced) - sum(
        c.total_cents for c in credited
    )
    assert partial.value.number in notes

    assert rows_of(export(database_url, business, 2024)) == []
    earlier = rows_of(export(database_url, business, 2025))
    assert {r[8] for r in earlier} == {numbers[before]}


def _credit_notes(app: Invoicing, business: UUID, invoices: list[Any]) -> list[UUID]:
    found = []
    for invoice in invoices:
        for event in app.events.get(invoice.id):
            note = getattr(event, "credit_note_id", None)
            if note is not None:
                found.append(note)
    return found


def test_a_small_case_byte_for_byte(books: Invoicing, clock: Clock, database_url: str) -> None:
    business = new_business(books, "Golden SARL", company_id="732 829 320 00074")
    client = books.register_client(business, {"name": "Client SA", "country": "FR"}).value.id
    clock.on("2026-02-03")
    invoice = issued(books, business, client, line(10000, "20"), line(2000, "5.5"))
    paid(books, business, invoice, 5000, "2026-02-10")
    clock.on("2026-02-20")
    books.issue_credit_note(business, invoice, reason="r", lines=[line(1000, "20")])
    number = books.repository.get(invoice).number
    # ValidDate: the UTC day each fact was recorded (the events' own times)
    recorded = {
        type(e).__name__: f"{e.timestamp.astimezone(UTC):%Y%m%d}" for e in books.events.get(invoice)
    }
    sent, paid_on, credited = recorded["Sent"], recorded["PaymentRecorded"], recorded["Credited"]
    expected = [
        HEADER,
        f"VE\tVentes\tVE2026-000001\t20260203\t411000\tClients\t{client}\tClient SA\t{number}\t"
        f"20260203\tFacture {number} Client SA\t141,10\t0,00\t\t\t{sent}\t\t",
        f"VE\tVentes\tVE2026-000001\t20260203\t706000\tPrestations de services\t\t\t{number}\t"
        f"20260203\tFacture {number} HT 20 %\t0,00\t100,00\t\t\t{sent}\t\t",
        f"VE\tVentes\tVE2026-000001\t20260203\t445710\tTVA collectée\t\t\t{number}\t"
        f"20260203\tFacture {number} TVA 20 %\t0,00\t20,00\t\t\t{sent}\t\t",
        f"VE\tVentes\tVE2026-000001\t20260203\t706000\tPrestations de services\t\t\t{number}\t"
        f"20260203\tFacture {number} HT 5,5 %\t0,00\t20,00\t\t\t{sent}\t\t",
        f"VE\tVentes\tVE2026-000001\t20260203\t445710\tTVA collectée\t\t\t{number}\t"
        f"20260203\tFacture {number} TVA 5,5 %\t0,00\t1,10\t\t\t{sent}\t\t",
        f"VE\tVentes\tVE2026-000002\t20260220\t411000\tClients\t{client}\tClient SA\tA2026-00001\t"
        f"20260220\tAvoir A2026-00001 Client SA\t0,00\t12,00\t\t\t{credited}\t\t",
        f"VE\tVentes\tVE2026-000002\t20260220\t706000\tPrestations de services\t\t\tA2026-00001\t"
        f"20260220\tAvoir A2026-00001 HT 20 %\t10,00\t0,00\t\t\t{credited}\t\t",
        f"VE\tVentes\tVE2026-000002\t20260220\t445710\tTVA collectée\t\t\tA2026-00001\t"
        f"20260220\tAvoir A2026-00001 TVA 20 %\t2,00\t0,00\t\t\t{credited}\t\t",
        f"BQ\tBanque\tBQ2026-000001\t20260210\t512000\tBanque\t\t\t{number}\t"
        f"20260210\tRèglement {number} transfer\t50,00\t0,00\t\t\t{paid_on}\t\t",
        f"BQ\tBanque\tBQ2026-000001\t20260210\t411000\tClients\t{client}\tClient SA\t{number}\t"
        f"20260210\tRèglement {number} transfer\t0,00\t50,00\t\t\t{paid_on}\t\t",
    ]
    done = run_cli(database_url, "audit", "export", "--business", str(business), "--year", "2026")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "\n".join(expected) + "\n"
    assert f"{SIREN}FEC20261231.txt" in done.stderr


def test_refusals_name_the_problem(books: Invoicing, database_url: str, tmp_path: Path) -> None:
    unknown = run_cli(
        database_url, "audit", "export", "--business", str(UUID(int=7)), "--year", "2026"
    )
    assert unknown.returncode == 1
    assert f"No business {UUID(int=7)}." in unknown.stderr
    bad_year = run_cli(
        database_url, "audit", "export", "--business", str(UUID(int=7)), "--year", "26"
    )
    assert bad_year.returncode == 2
    assert "--year" in bad_year.stderr
    nameless = new_business(books, "No SIREN", company_id=None)
    to_dir = run_cli(
        database_url,
        "audit",
        "export",
        "--business",
        str(nameless),
        "--year",
        "2026",
        "--output",
        str(tmp_path),
    )
    assert to_dir.returncode == 1
    assert "SIREN" in to_dir.stderr
    assert list(tmp_path.iterdir()) == []
    nowhere = run_cli(
        database_url,
        "audit",
        "export",
        "--business",
        str(nameless),
        "--year",
        "2026",
        "--output",
        str(tmp_path / "missing" / "fec.txt"),
    )
    assert nowhere.returncode == 1
    assert "No such file or directory" in nowhere.stderr
    # Its SIREN given now: a French seller sends nothing without one (API.md "E-invoices and
    # legal checks", BR-FR-10), and the foreign currency is what is refused below.
    books.change_business_profile(nameless, {"company_id": "732829320"})
    client = books.register_client(nameless, {"name": "Oslo AS", "country": "NO"}).value.id
    invoice = books.create_invoice(
        nameless,
        client_id=client,
        currency="NOK",
        lines=[line(1000, "25")],
        tax_exchange_rate="0.085",  # issued with its rate (BT-111): the FEC still refuses NOK
    ).value
    books.send_invoice(nameless, invoice.id, ["link"])
    foreign = run_cli(
        database_url,
        "audit",
        "export",
        "--business",
        str(nameless),
        "--year",
        "2026",
    )
    assert foreign.returncode == 1
    assert invoice.number in foreign.stderr
    assert foreign.stdout == ""
