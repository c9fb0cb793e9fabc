"""Where live deliveries go: email over SMTP (SMTP_URL) and SMS through an HTTP gateway
(SMS_GATEWAY_URL). Each call carries the delivery id as its idempotency key."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiosmtplib
import httpx

from fastfaktura.adapters.delivery.messages import Message


class DeliveryError(Exception):
    """The delivery did not go through (it will be retried, up to a limit)."""


class Transport(Protocol):
    async def send(
        self, *, to: str, message: Message, key: str, sender: str, reply_to: str | None
    ) -> None: ...


class SmtpTransport:
    """`smtp://[user:password@]host[:port]` (or smtps:// for implicit TLS)."""

    def __init__(self, url: str, mail_from: str) -> None:
        parsed = urlparse(url)
        self._host = parsed.hostname or "localhost"
        self._port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self._tls = parsed.scheme == "smtps"
        self._user = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        self._from = mail_from

    async def send(
        self, *, to: str, message: Message, key: str, sender: str, reply_to: str | None
    ) -> None:
        email = EmailMessage()
        email["From"] = formataddr((sender, self._from))
        email["To"] = to
        email["Subject"] = message.subject or ""
        # The delivery id: a receiver (or a human) can tell a rare repeat from a new message.
        email["Message-ID"] = f"<{key}@fastfaktura>"
        if reply_to:
            email["Reply-To"] = reply_to
        email.set_content(message.body)
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        try:
            await aiosmtplib.send(
                email,
                hostname=self._host,
                port=self._port,
                use_tls=self._tls,
                start_tls=False if self._tls else None,
                username=self._user,
                password=self._password,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {exc}") from exc


class SmsGatewayTransport:
    """POST {to, body, reference} as JSON, with `Idempotency-Key`; any 2xx is success."""

    def __init__(self, url: str, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._client = client or httpx.AsyncClient(timeout=30)

    async def send(
        self, *, to: str, message: Message, key: str, sender: str, reply_to: str | None
    ) -> None:
        try:
            response = await self._client.post(
                self._url,
                json={"to": to, "body": message.body, "sender": sender, "reference": key},
                headers={"Idempotency-Key": key},
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS gateway: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(
                f"SMS gateway answered {response.status_code}: {response.text[:200]}"
            )
