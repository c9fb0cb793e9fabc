"""The rows of a `COPY ... TO STDOUT (FORMAT BINARY)` stream, whatever its chunks.

audit verify parses the usual case itself, one whole row per message (chain_share.py); this
general parser takes everything else: the header, the trailer, NULLs, and rows split across or
packed into messages.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_INT2 = struct.Struct(">h")
_INT4 = struct.Struct(">i")


class CopyRows:
    """Feed it the stream's messages in order; it yields each complete row's fields (None for
    NULL); close() checks the stream ended after its trailer."""

    def __init__(self) -> None:
        self.buffer = b""
        self.started = False
        self.ended = False

    @property
    def idle(self) -> bool:
        """Past the header, no partial row held: the next message starts a row."""
        return self.started and not self.buffer and not self.ended

    def feed(self, data: bytes) -> Iterator[list[bytes | None]]:
        buffer = self.buffer + data if self.buffer else data
        at = 0
        if not self.started:
            if len(buffer) < 19:
                self.buffer = buffer
                return
            if buffer[:11] != SIGNATURE:
                raise ValueError("not a binary COPY stream")
            at = 19 + _INT4.unpack_from(buffer, 15)[0]
            self.started = True
        while at < len(buffer) and not self.ended:
            fields, end = self._row(buffer, at)
            if end < 0:
                break
            at = end
            if fields is None:
                self.ended = True
            else:
                yield fields
        if self.ended and at < len(buffer):
            raise ValueError("data after the COPY stream's trailer")
        self.buffer = buffer[at:]

    @staticmethod
    def _row(buffer: bytes, at: int) -> tuple[list[bytes | None] | None, int]:
        """The fields of the row at `at` and where it ends (None: the trailer); -1: not all
        of it received yet."""
        if len(buffer) - at < 2:
            return None, -1
        (count,) = _INT2.unpack_from(buffer, at)
        if count == -1:
            return None, at + 2
        at += 2
        fields: list[bytes | None] = []
        for _ in range(count):
            if len(buffer) - at < 4:
                return None, -1
            (length,) = _INT4.unpack_from(buffer, at)
            at += 4
            if length < 0:
                fields.append(None)
                continue
            if len(buffer) - at < length:
                return None, -1
            fields.append(buffer[at : at + length])
            at += length
        return fields, at

    def close(self) -> None:
        if self.buffer or not self.ended:
            raise ValueError("the COPY stream ended inside a row")
