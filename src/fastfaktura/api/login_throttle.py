"""Sign-in slowed down after failures, per email and per client address, across processes.

After `FASTFAKTURA_LOGIN_MAX_FAILURES` (5) failed sign-ins for one email, that email cannot
sign in for `FASTFAKTURA_LOGIN_BLOCK_SECONDS` (30 s), doubled by every further failure, up to
15 minutes; a client address is blocked the same way after 4 times as many failures (offices
and NATs share one). While blocked, the password is not even checked: the answer is `429`
with `Retry-After`. Failures are forgotten 15 minutes after the last one, and an email's on
its successful sign-in (an address's are not: one good password does not reset a guesser).
"""

from __future__ import annotations

from typing import Final

from asyncpg import Pool

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.config import AccountSettings

# The longest block, and how long failures are remembered (seconds).
WINDOW_SECONDS: Final = 900.0
ADDRESS_FACTOR: Final = 4


def _sql(name: str) -> str:
    return local_statement(__file__, "login_throttle.sql", name)


def subjects(email: str, address: str) -> tuple[str, str]:
    return f"email:{email}", f"address:{address}"


async def blocked_for(pool: Pool, email: str, address: str) -> int:
    seconds = await pool.fetchval(_sql("blocked_for"), list(subjects(email, address)))
    return int(seconds or 0)


async def record_failure(pool: Pool, settings: AccountSettings, email: str, address: str) -> None:
    by_email, by_address = subjects(email, address)
    async with pool.acquire() as conn, conn.transaction():
        for subject, allowed in (
            (by_email, settings.login_max_failures),
            (by_address, settings.login_max_failures * ADDRESS_FACTOR),
        ):
            await conn.execute(
                _sql("record_failure"),
                subject,
                allowed,
                settings.login_block_seconds,
                WINDOW_SECONDS,
            )


async def forget_email(pool: Pool, email: str) -> None:
    await pool.execute(_sql("forget"), subjects(email, "")[0])


async def purge(pool: Pool) -> int:
    status = await pool.execute(_sql("purge"), WINDOW_SECONDS)
    return int(status.split()[-1])
