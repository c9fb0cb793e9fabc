"""The msgspec decoding of stored events (rebuild, catch-up, audit) gives exactly the events the
library's own JSON transcoder gives."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from fastfaktura.adapters.event_decoding import MsgspecTranscoder, msgspec_mapper
from tests.unit.lifecycle_support import DUE, draft


def _library_mapper() -> Mapper:  # type: ignore[type-arg]
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder)


def test_events_decode_to_the_same_objects_as_with_the_library() -> None:
    invoice = draft(keep_pending_events=True)
    invoice.send({"link": None})
    invoice.mark_overdue(DUE + timedelta(days=1))
    library = _library_mapper()
    fast = msgspec_mapper(library)
    assert isinstance(fast.transcoder, MsgspecTranscoder)
    stored = [library.to_stored_event(event) for event in invoice.collect_events()]
    assert len(stored) == 3
    for event in stored:
        expected = library.to_domain_event(event)
        got = fast.to_domain_event(event)
        assert type(got) is type(expected)
        assert vars(got) == vars(expected)
        assert {k: type(v) for k, v in vars(got).items()} == {
            k: type(v) for k, v in vars(expected).items()
        }


def test_nested_and_unusual_values_decode_like_the_library() -> None:
    library = _library_mapper().transcoder
    fast = MsgspecTranscoder(library)  # type: ignore[arg-type]
    data = (
        b'{"a":[{"_type_":"decimal_str","_data_":"1.50"},{"x":{"_type_":"uuid_hex",'
        b'"_data_":"53c7e82ea39f4e88b66c8f13f5bdf577"}}],"b":{"_type_":"x"},"c":1.5}'
    )
    assert fast.decode(data) == library.decode(data)
    # A two-key object with `_type_` but no `_data_`, and transcoded data inside containers.
    data = (
        b'{"a":{"_type_":"x","y":{"_type_":"decimal_str","_data_":"2"}},"b":[{"_type_":'
        b'"decimal_str","_data_":"3"},[{"_type_":"uuid_hex","_data_":'
        b'"53c7e82ea39f4e88b66c8f13f5bdf577"}]],"c":{"_data_":1,"_type_":"decimal_str"}}'
    )
    assert fast.decode(data) == library.decode(data)
    # NaN is only valid for the stdlib's parser: the library's path decodes it.
    assert math.isnan(fast.decode(b'{"n":NaN}')["n"])
    with pytest.raises(TranscodingNotRegisteredError):
        fast.decode(b'{"_type_":"nothing","_data_":"1"}')
