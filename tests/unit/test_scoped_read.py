"""A read of the query gateway riding in the API key's statement (issue 12): its business is the
key's, its own parameters come after the key statement's three, and nothing else changes."""

from __future__ import annotations

from fastfaktura.api.ratelimit import NO_READ, READ_PARAMETERS_FROM, authenticate_and_take_sql
from fastfaktura.readmodels.queries.common import ScopedRead
from fastfaktura.readmodels.queries.invoices import INVOICE_RESPONSE


def test_the_business_becomes_the_keys_and_the_other_parameters_move_after_the_keys() -> None:
    sql = INVOICE_RESPONSE.within("api_key.business_id", READ_PARAMETERS_FROM)
    assert INVOICE_RESPONSE.sql.count("$1") == 1
    assert INVOICE_RESPONSE.sql.count("$2") == 1
    assert "r.business_id = api_key.business_id" in sql
    assert "r.id = $4" in sql
    assert "$1" not in sql
    assert "$2" not in sql
    assert sql.startswith("(")
    assert sql.endswith("\n)")


def test_every_parameter_is_renumbered_once_multi_digit_ones_too() -> None:
    class Fixed(ScopedRead):
        @property
        def sql(self) -> str:
            return "SELECT $2 + $3 + $10 FROM t WHERE b = $1 AND c = $1"

    sql = Fixed("any", "any").within("k.b", 4)
    assert sql == "(SELECT $4 + $5 + $12 FROM t WHERE b = k.b AND c = k.b\n)"


def test_the_key_statement_reads_nothing_unless_given_a_read() -> None:
    plain = authenticate_and_take_sql()
    assert plain == authenticate_and_take_sql(NO_READ)
    assert "THEN NULL END AS answer" in plain
    riding = authenticate_and_take_sql("(SELECT 1)")
    assert riding == plain.replace("THEN NULL END", "THEN (SELECT 1) END")
    assert "{read}" not in riding
