"""Sign-in throttling: an account that keeps failing waits; an address that keeps failing is
slowed, never shut out.

- Per account: after ``PER_ACCOUNT`` failures in ``WINDOW``, sign-in to that account waits
  (429 with Retry-After) until the oldest failure leaves the window, so a password cannot
  be guessed slowly from many addresses.
- Per address: after ``PER_ADDRESS`` failures in the window, each further failure from that
  address is answered only after a growing delay. A refusal here would lock out everyone
  behind a company's NAT when one of them guesses; a delay on *failures* leaves a colleague
  with the right password signed in at once, while a guesser trying one account after
  another gets slower and slower.

An attempt is written down *before* its password is checked and forgotten if it succeeds.
Its place among the account's attempts, by row id, decides whether it may be checked at
all, so parallel attempts cannot all slip under the limit: of 25 sent at once, 5 are
checked. Attempts also hold a place in flight in their process (per account and per
address), which caps what one client can keep busy. Rows live in the database, so all
server processes share the counts and a restart does not reset them.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kitlib.models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 20
# Each failure past PER_ADDRESS adds this much to the answer of the next (capped).
ADDRESS_DELAY_STEP = 0.5
ADDRESS_DELAY_MAX = 10.0
# Attempts one process checks at once, per account and per address.
IN_FLIGHT_PER_ACCOUNT = 2
IN_FLIGHT_PER_ADDRESS = 8

_in_flight: Counter[str] = Counter()


@dataclass
class Attempt:
    """A sign-in allowed to check its password (``wait == 0``), or told how long to wait."""

    wait: int = 0  # seconds before this account may be tried again; 0: go ahead
    delay: float = 0.0  # seconds to hold back the answer if the password is wrong
    _ids: tuple[int, ...] = ()

    async def succeeded(self, email: str) -> None:
        """The password was right: this attempt and the account's failures are forgotten
        (the address's earlier failures stand)."""
        await LoginFailure.filter(id__in=list(self._ids)).delete()
        await LoginFailure.filter(key=_account_key(email)).delete()

    async def failed(self) -> None:
        """The password was wrong: the attempt stays counted; the answer is held back."""
        if self.delay:
            await asyncio.sleep(self.delay)


def _account_key(email: str) -> str:
    return f"email:{email.strip().lower()[:320]}"


def _address_key(address: str) -> str:
    return f"addr:{address[:64]}"


@asynccontextmanager
async def attempt(email: str, address: str) -> AsyncIterator[Attempt]:
    """Begin a sign-in; the caller checks the password only if ``wait`` is 0, then calls
    ``succeeded`` or ``failed`` inside the block."""
    account, origin = _account_key(email), _address_key(address)
    if _in_flight[account] >= IN_FLIGHT_PER_ACCOUNT or \
            _in_flight[origin] >= IN_FLIGHT_PER_ADDRESS:
        yield Attempt(wait=1)
        return
    _in_flight[account] += 1
    _in_flight[origin] += 1
    try:
        yield await _begin(account, origin)
    finally:
        for key in (account, origin):
            _in_flight[key] -= 1
            if _in_flight[key] <= 0:
                del _in_flight[key]


async def _begin(account: str, origin: str) -> Attempt:
    now = datetime.now(UTC)
    since = now - WINDOW
    await LoginFailure.filter(at__lt=since).delete()
    if wait := await _wait(account, now):
        return Attempt(wait=wait)  # costs no argon2 and writes nothing
    mine = await LoginFailure.create(key=account, at=now)
    place = await LoginFailure.filter(key=account, at__gte=since, id__lte=mine.id).count()
    if place > PER_ACCOUNT:
        # Others got in first (parallel attempts): this one is not checked at all.
        await mine.delete()
        return Attempt(wait=max(1, await _wait(account, now)))
    from_origin = await LoginFailure.create(key=origin, at=now)
    before = await LoginFailure.filter(key=origin, at__gte=since,
                                       id__lt=from_origin.id).count()
    over = before - PER_ADDRESS + 1
    delay = min(ADDRESS_DELAY_STEP * over, ADDRESS_DELAY_MAX) if over > 0 else 0.0
    return Attempt(delay=delay, _ids=(mine.id, from_origin.id))


async def _wait(account: str, now: datetime) -> int:
    """0 if the account may be tried now, else the seconds until it may."""
    recent = LoginFailure.filter(key=account, at__gte=now - WINDOW)
    if await recent.count() < PER_ACCOUNT:
        return 0
    # The PER_ACCOUNT-th newest failure has to leave the window for one more try.
    times = await recent.order_by("-at").limit(PER_ACCOUNT).values_list("at", flat=True)
    oldest: datetime = min(times)  # type: ignore[assignment]
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))
