"""Stored credentials: password hashes, API and feed tokens, sessions.

Secrets are shown once and stored as digests; a wrong email costs as long as a wrong password.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kitlib.models import ApiToken, Session, User

TOKEN_PREFIX = "kl_"
FEED_TOKEN_PREFIX = "kf_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(email: str, password: str) -> User | None:
    user = await User.get_or_none(email=email.strip().lower(), is_active=True)
    # argon2 takes tens of milliseconds of CPU: in a thread, so other requests go on.
    if user is None:
        await asyncio.to_thread(verify_password, _DUMMY_HASH, password)
        return None
    return user if await asyncio.to_thread(verify_password, user.password_hash, password) \
        else None


# -- API tokens and sessions ---------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(user: User, name: str = "") -> str:
    """Make an API token; the clear text is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(user=user, token_hash=_digest(secret), prefix=secret[:10], name=name)
    return secret


async def create_feed_token(user: User) -> str:
    """A new personal feed token for the user; the previous one stops working."""
    await ApiToken.filter(user=user, scope="feed", revoked_at=None).update(
        revoked_at=datetime.now(UTC))
    secret = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(user=user, token_hash=_digest(secret), prefix=secret[:10],
                          name="feed", scope="feed")
    return secret


async def revoke_feed_tokens(user: User) -> int:
    return await ApiToken.filter(user=user, scope="feed", revoked_at=None).update(
        revoked_at=datetime.now(UTC))


async def user_for_token(secret: str, scope: str = "api") -> User | None:
    token = await ApiToken.get_or_none(token_hash=_digest(secret), revoked_at=None, scope=scope)
    if token is None:
        return None
    user = await User.get_or_none(id=token.user_id, is_active=True)
    if user is not None:
        now = datetime.now(UTC)
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            await ApiToken.filter(id=token.id).update(last_used_at=now)
    return user


async def create_session(user: User, days: int) -> str:
    secret = secrets.token_urlsafe(32)
    await Session.create(user=user, token_hash=_digest(secret),
                         expires_at=datetime.now(UTC) + timedelta(days=days))
    return secret


async def user_for_session(secret: str) -> User | None:
    session = await Session.get_or_none(token_hash=_digest(secret))
    if session is None:
        return None
    if session.expires_at <= datetime.now(UTC):
        await session.delete()
        return None
    return await User.get_or_none(id=session.user_id, is_active=True)


async def end_session(secret: str) -> None:
    await Session.filter(token_hash=_digest(secret)).delete()
