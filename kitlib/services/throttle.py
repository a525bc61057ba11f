"""Sign-in throttling: too many failures for one account, or from one address, and sign-in
waits (429 with Retry-After) until the oldest failure leaves the window.

Per account, so a password cannot be guessed slowly from many addresses; per address, so one
machine cannot try a password against every account. Failures live in the database, so all
server processes share the count and a restart does not reset it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from kitlib.models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    return [(f"email:{email.strip().lower()[:320]}", PER_ACCOUNT),
            (f"addr:{address[:64]}", PER_ADDRESS)]


async def wait_seconds(email: str, address: str) -> int:
    """0 if this sign-in may be tried now, else the seconds until it may."""
    now = datetime.now(UTC)
    wait = 0
    for key, limit in _keys(email, address):
        recent = LoginFailure.filter(key=key, at__gte=now - WINDOW)
        if await recent.count() >= limit:
            # The limit-th newest failure has to leave the window for one more try.
            times = await recent.order_by("-at").limit(limit).values_list("at", flat=True)
            oldest: datetime = min(times)  # type: ignore[assignment]
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            wait = max(wait, math.ceil((oldest + WINDOW - now).total_seconds()))
    return max(0, wait)


async def record_failure(email: str, address: str) -> None:
    now = datetime.now(UTC)
    await LoginFailure.bulk_create([LoginFailure(key=key, at=now)
                                    for key, _ in _keys(email, address)])
    await LoginFailure.filter(at__lt=now - WINDOW).delete()


async def clear_account(email: str) -> None:
    """A successful sign-in forgets the account's failures (not the address's)."""
    await LoginFailure.filter(key=_keys(email, "")[0][0]).delete()
