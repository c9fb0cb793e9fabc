"""A minimal keep-alive HTTP/1.1 client over asyncio streams: the bench's load generator.

It does the least work per request a Python client can do (pre-built request bytes, no header
objects, no JSON unless asked), so that on a 2-core machine most of the CPU goes to the server.
Only what the bench needs: Content-Length or chunked bodies, one request at a time per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

DESCRIPTION = "raw keep-alive HTTP/1.1 client on asyncio streams, in the bench process"


class HttpError(Exception):
    pass


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class Connection:
    """One persistent connection to host:port; `request` must not be called concurrently."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        fixed = {"Host": f"{host}:{port}", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = self._reader = None

    async def __aenter__(self) -> Connection:
        return await self.open()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def prepare(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """The bytes of one request, to build once and send many times."""
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self._fixed
        if body is None:
            return head + b"\r\n"
        return (
            head
            + b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    async def send(self, raw: bytes) -> Response:
        """Send prepared request bytes and read the whole response (reconnects if needed)."""
        if self._reader is None or self._writer is None:
            await self.open()
        try:
            return await self._exchange(raw)
        except BaseException:
            await self.close()  # the stream is in an unknown state: the next send reconnects
            raise

    async def _exchange(self, raw: bytes) -> Response:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(raw)
        reader = self._reader
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        chunked = False
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            body = await _read_chunked(reader)
        elif length >= 0:
            body = await reader.readexactly(length)
        else:
            raise HttpError(f"response without a length: {head!r}")
        if close:
            await self.close()
        return Response(status, body)

    async def request(self, method: str, path: str, body: bytes | None = None) -> Response:
        return await self.send(self.prepare(method, path, body))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
