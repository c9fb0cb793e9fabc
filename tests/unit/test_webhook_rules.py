"""The database-free rules of the feed and the webhooks: every event of the feed's aggregates
has a type, cursors have one spelling, and where a webhook may go."""

from __future__ import annotations

import pytest

from fastfaktura.adapters.webhooks.addresses import UnsafeUrl, parse_target, refusal
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels.feed import FEED_TYPES, decode_cursor, encode_cursor
from fastfaktura.readmodels.model import event_topics


@pytest.mark.parametrize(
    ("aggregate", "kind"), [(Business, "business"), (Client, "client"), (Invoice, "invoice")]
)
def test_every_event_of_a_feed_object_has_a_feed_type(aggregate: type, kind: str) -> None:
    for topic in event_topics(aggregate):
        assert topic in FEED_TYPES, f"{topic} is missing from FEED_TYPES"
        assert FEED_TYPES[topic][0] == kind
        assert FEED_TYPES[topic][1].startswith(f"{kind}.")


def test_the_credit_note_types_are_in_the_table_already() -> None:
    assert FEED_TYPES["fastfaktura:CreditNote.Issued"] == ("credit_note", "credit_note.issued")
    assert FEED_TYPES["fastfaktura:CreditNote.RefundRecorded"][1] == "credit_note.refund_recorded"


@pytest.mark.parametrize("position", [0, 1, 42, 10**17])
def test_a_cursor_reads_back_as_its_position(position: int) -> None:
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("cursor", ["", "oops", "ZXYxOjAx", "ZXYxOi0x", "MTIz", "ZXYxOg", "é" * 4])
def test_anything_else_is_not_a_cursor(cursor: str) -> None:
    assert decode_cursor(cursor) is None


@pytest.mark.parametrize(
    ("address", "live", "refused"),
    [
        ("93.184.216.34", True, False),
        ("2606:2800:220:1::1", True, False),
        ("127.0.0.1", True, True),
        ("::1", True, True),
        ("10.1.2.3", True, True),
        ("172.16.0.1", True, True),
        ("192.168.1.1", True, True),
        ("100.64.0.1", True, True),
        ("fd00::1", True, True),
        ("::ffff:10.0.0.1", True, True),
        ("169.254.169.254", True, True),
        ("fe80::1", True, True),
        ("0.0.0.0", True, True),
        ("224.0.0.1", True, True),
        ("127.0.0.1", False, False),
        ("::1", False, False),
        ("10.1.2.3", False, False),
        ("169.254.169.254", False, True),
        ("0.0.0.0", False, True),
    ],
)
def test_which_addresses_a_webhook_may_reach(address: str, live: bool, refused: bool) -> None:
    assert (refusal(address, live=live) is not None) == refused


@pytest.mark.parametrize(
    ("url", "live"),
    [
        ("http://hooks.example.com/x", True),
        ("ftp://hooks.example.com/x", False),
        ("https://user:pw@hooks.example.com/x", False),
        ("https://hooks.example.com/x#frag", False),
        ("https:///x", False),
        ("https://hooks.example.com:99999/x", False),
        ("https://" + "a" * 2050 + ".com/", False),
    ],
)
def test_urls_no_business_may_use(url: str, live: bool) -> None:
    with pytest.raises(UnsafeUrl):
        parse_target(url, live=live)


def test_a_url_is_split_for_the_checks() -> None:
    target = parse_target("https://[::1]:8443/x", live=False)
    assert (target.scheme, target.host, target.port, target.literal) == ("https", "::1", 8443, True)
    assert parse_target("https://hooks.example.com/x", live=True).port == 443
