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
        object hook does."""
        if type(value) is list:
            for i, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[i] = self._revive(item)
            return value
        if type(value) is not dict:
            return value
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = self._revive(item)
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name = value["_type_"]
            try:
                revive = self._revivers[name]
            except (KeyError, TypeError):
                msg = f"Data serialized with name '{name}' is not deserializable."
                raise TranscodingNotRegisteredError(msg) from None
            return revive(value["_data_"])
        return value


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
