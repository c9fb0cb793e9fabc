"""The chain's hashing and the anchor file format, without a database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import pytest

from fastfaktura.adapters.event_chain import (
    Anchor,
    AnchorFileError,
    genesis,
    link,
    parse_anchors,
)

BUSINESS = UUID("11111111-2222-3333-4444-555555555555")
AGGREGATE = UUID("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")


def test_genesis_is_the_label_and_the_business_bytes() -> None:
    expected = hashlib.sha256(b"fastfaktura event chain v1" + BUSINESS.bytes).hexdigest()
    assert genesis(BUSINESS).hex() == expected
    assert genesis(AGGREGATE) != genesis(BUSINESS)


def test_a_link_covers_the_previous_hash_and_every_stored_field() -> None:
    previous = genesis(BUSINESS)
    # Written out by hand: 8-byte big-endian version and lengths.
    by_hand = hashlib.sha256(
        previous
        + AGGREGATE.bytes
        + (3).to_bytes(8, "big")
        + (7).to_bytes(8, "big")
        + b"t:Topic"
        + (2).to_bytes(8, "big")
        + b"{}"
    ).digest()
    assert link(previous, AGGREGATE, 3, "t:Topic", b"{}") == by_hand
    changed = {
        link(genesis(AGGREGATE), AGGREGATE, 3, "t:Topic", b"{}"),
        link(previous, BUSINESS, 3, "t:Topic", b"{}"),
        link(previous, AGGREGATE, 4, "t:Topic", b"{}"),
        link(previous, AGGREGATE, 3, "t:Topic2", b"{}"),
        link(previous, AGGREGATE, 3, "t:Topic", b"{ }"),
    }
    assert by_hand not in changed
    assert len(changed) == 5


def test_moving_bytes_between_topic_and_state_changes_the_link() -> None:
    """The lengths make the encoding unambiguous: no two events share their hashed bytes."""
    previous = genesis(BUSINESS)
    assert link(previous, AGGREGATE, 1, "ab", b"c") != link(previous, AGGREGATE, 1, "a", b"bc")


def test_a_topic_is_hashed_as_utf8() -> None:
    previous = genesis(BUSINESS)
    assert (
        link(previous, AGGREGATE, 1, "Café", b"")
        == hashlib.sha256(
            previous
            + AGGREGATE.bytes
            + (1).to_bytes(8, "big")
            + (5).to_bytes(8, "big")
            + b"Caf\xc3\xa9"
            + (0).to_bytes(8, "big")
        ).digest()
    )


def test_anchor_lines_read_back() -> None:
    taken = datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)
    anchors = [
        Anchor(BUSINESS, 12, bytes(range(32)), taken),
        Anchor(BUSINESS, 30, b"\1" * 32, taken),
    ]
    text = "# comment\n\n" + "\n".join(a.line() for a in anchors) + "\n"
    assert anchors[0].line().split("\t") == [
        str(BUSINESS),
        "12",
        bytes(range(32)).hex(),
        "2026-12-06T01:02:03Z",
    ]
    assert parse_anchors(text) == {BUSINESS: anchors}


@pytest.mark.parametrize(
    "line",
    [
        "not-a-uuid 1 " + "00" * 32 + " 2026-01-01T00:00:00Z",
        f"{BUSINESS} 0 " + "00" * 32 + " 2026-01-01T00:00:00Z",
        f"{BUSINESS} 1 " + "00" * 31 + " 2026-01-01T00:00:00Z",
        f"{BUSINESS} 1 " + "zz" * 32 + " 2026-01-01T00:00:00Z",
        f"{BUSINESS} 1 " + "00" * 32 + " 2026-01-01T00:00:00",
        f"{BUSINESS} 1 " + "00" * 32,
    ],
)
def test_a_bad_anchor_line_is_refused_with_its_number(line: str) -> None:
    with pytest.raises(AnchorFileError, match="line 2"):
        parse_anchors("# header\n" + line)


def test_the_verifiers_raw_link_is_the_same_link() -> None:
    from fastfaktura.adapters.event_chain import link_bytes, topic_field

    previous = genesis(BUSINESS)
    assert link_bytes(
        previous, AGGREGATE.bytes, 7, topic_field("fastfaktura:Invoice.Created"), b'{"a":1}'
    ) == link(previous, AGGREGATE, 7, "fastfaktura:Invoice.Created", b'{"a":1}')
