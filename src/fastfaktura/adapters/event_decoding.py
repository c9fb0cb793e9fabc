"""Decoding stored events with msgspec: the library's JSON transcoder parses with the stdlib's
`json` and calls a Python hook for every object; msgspec parses in C, and the special values
(`{"_type_": "decimal_str", "_data_": "19.99"}`) are revived by one walk afterwards.

The result is the same objects the library's transcoder gives (the tests compare them); the
mapper around it still resolves the topic, upcasts and builds the event. Rebuild, catch-up and
the audit read every event through it (fastfaktura/event_reader.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

_decode_json = msgspec.json.Decoder().decode


class MsgspecTranscoder(JSONTranscoder):
    """A JSONTranscoder (same transcodings, same encoding) that decodes with msgspec."""

    def __init__(self, transcodings: JSONTranscoder) -> None:
        super().__init__()
        for transcoding in transcodings.names.values():
            self.register(transcoding)
        self._revivers: dict[str, Callable[[Any], Any]] = {
            name: transcoding.decode for name, transcoding in self.names.items()
        }

    def decode(self, data: bytes) -> Any:
        try:
            decoded = _decode_json(data)
        except msgspec.DecodeError:
            # What only the stdlib's parser accepts (NaN, Infinity): its own path.
            return super().decode(data)
        return self._revive(decoded)

    def _revive(self, value: Any) -> Any:
        """Replace every `{"_type_", "_data_"}` object, innermost first, as the stdlib's
        object hook does. Containers are revived in place, a transcoded object is replaced
        where it sits without a call of its own (a rebuild's profile: this walk was most of
        the decoding)."""
        if type(value) is dict:
            self._revive_dict(value)
            return self._revived(value) if len(value) == 2 else value
        if type(value) is list:
            self._revive_list(value)
        return value

    def _revive_dict(self, value: dict[str, Any]) -> None:
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                # Most two-key objects are transcoded values ({"_type_", "_data_"}): revived
                # without a walk of their own (a rebuild's decoding: 3 µs of 18 per event).
                if len(item) == 2 and "_type_" in item and "_data_" in item:
                    value[key] = self._transcoded(item)
                    continue
                self._revive_dict(item)
                if len(item) == 2:
                    value[key] = self._revived(item)
            elif kind is list:
                self._revive_list(item)

    def _revive_list(self, value: list[Any]) -> None:
        for i, item in enumerate(value):
            kind = type(item)
            if kind is dict:
                if len(item) == 2 and "_type_" in item and "_data_" in item:
                    value[i] = self._transcoded(item)
                    continue
                self._revive_dict(item)
                if len(item) == 2:
                    value[i] = self._revived(item)
            elif kind is list:
                self._revive_list(item)

    def _revived(self, value: dict[str, Any]) -> Any:
        """A two-key object (its contents revived): its transcoded value if it is one."""
        if "_type_" not in value or "_data_" not in value:
            return value
        return self._revive_value(value)

    def _transcoded(self, value: dict[str, Any]) -> Any:
        """A `{"_type_", "_data_"}` object, its data not revived yet: its value."""
        data = value["_data_"]
        kind = type(data)
        if kind is dict or kind is list:  # innermost first, as the stdlib's object hook
            value["_data_"] = self._revive(data)
        return self._revive_value(value)

    def _revive_value(self, value: dict[str, Any]) -> Any:
        name = value["_type_"]
        try:
            revive = self._revivers[name]
        except (KeyError, TypeError):
            msg = f"Data serialized with name '{name}' is not deserializable."
            raise TranscodingNotRegisteredError(msg) from None
        return revive(value["_data_"])


def msgspec_mapper(mapper: Mapper[Any]) -> Mapper[Any]:
    """The same mapper (compressor, cipher, transcodings) decoding with msgspec; the mapper
    itself when its transcoder is not the library's JSON one."""
    if type(mapper.transcoder) is not JSONTranscoder:
        return mapper
    return type(mapper)(
        transcoder=MsgspecTranscoder(mapper.transcoder),
        compressor=mapper.compressor,
        cipher=mapper.cipher,
    )
