"""GET /api/v1/invoices/{id} from one row (issue 12): the invoices projection keeps the whole
answer encoded in `rm_invoice_responses`; the API sends it with its base URL in front of
`public_url`, decoding nothing. The answer is the one composed from `rm_invoices` and
`rm_invoice_events` as before; an invoice without the row (recorded before migration 0027) is
still composed; a rebuild writes the rows again and the audit agrees with them."""

from __future__ import annotations

from typing import Any

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import InvoicesReadModel, read_model
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account
from tests.helpers import assert_problem
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json


def _sql(database_url: str, statement: str, invoice_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(statement, (invoice_id,)).rowcount


async def test_the_answer_is_the_projection_s_row_with_the_base_url_in_front(
    client: AsyncTestClient[Any],
    account: Account,
    new_account: Any,
    invoicing: Invoicing,
    database_url: str,
) -> None:
    buyer = await create_client(client, account)
    created = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{created['id']}"
    answer = await get_json(client, account, url)
    events = await get_json(client, account, f"{url}/events")
    assert answer.pop("events") == events["data"]
    assert answer == created
    assert answer["public_url"].startswith("http://testserver/i/")

    # The row is what is sent: changed in the row (the invoice's notes, not its event's),
    # changed in the answer; the timeline's own read model is not read.
    changed = _sql(
        database_url,
        "UPDATE rm_invoice_responses SET response = convert_to(regexp_replace("
        " convert_from(response, 'UTF8'), '\"notes\":null', '\"notes\":\"from the row\"'),"
        " 'UTF8') WHERE id = %s",
        created["id"],
    )
    assert changed == 1
    assert _sql(database_url, "DELETE FROM rm_invoice_events WHERE invoice_id = %s", created["id"])
    from_row = await get_json(client, account, url)
    assert from_row["notes"] == "from the row"
    assert from_row["events"] == events["data"]

    # Another business's key: 404, as for any invoice of another business.
    other = new_account("Other Row Oy")
    assert_problem(await client.get(url, headers=other.headers), 404)

    # Without the row (an invoice recorded before migration 0027): composed as before.
    assert _sql(database_url, "DELETE FROM rm_invoice_responses WHERE id = %s", created["id"])
    rebuild(event_reader(invoicing), database_url, read_model("invoice_events"))
    composed = await get_json(client, account, url)
    assert composed.pop("events") == events["data"]
    assert composed == created

    # A rebuild writes the row again, and the audit finds it equal to the events' fold.
    rebuild(event_reader(invoicing), database_url, InvoicesReadModel())
    assert _sql(database_url, "SELECT 1 FROM rm_invoice_responses WHERE id = %s", created["id"])
    rebuilt = await get_json(client, account, url)
    assert rebuilt == {**created, "events": events["data"]}
    reader = event_reader(invoicing)
    assert compare(reader, database_url, InvoicesReadModel(), business_id=account.business_id) == []
