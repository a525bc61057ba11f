"""Who is asking, and what they may see: passwords, tokens, sessions, CSRF and access rules.

Access is decided here and nowhere else. A ``Principal`` names the caller; ``visible_q``
turns it into the database filter every listing, search, feed and bundle goes through, and
``can_view`` answers for one resource. Items a caller may not see answer 404, exactly as
missing ones do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request
from tortoise.expressions import Q

from kitlib import links
from kitlib.errors import Forbidden, Unauthorized
from kitlib.models import ApiToken, Attendee, Resource, Role, Session, User, Visibility

SESSION_COOKIE = "kitlib_session"
CSRF_COOKIE = "kitlib_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PREFIX = "kl_"
FEED_TOKEN_PREFIX = "kf_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

RoleName = Literal["anonymous", "member", "staff", "attendee"]
Via = Literal["session", "token", "link", "none"]


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    role: RoleName = "anonymous"
    user: User | None = None
    via: Via = "none"
    # Resources opened to this caller one by one: a webinar attendee's recording, slides
    # and transcript (kitlib/links.py).
    granted_resource_ids: frozenset[int] = field(default_factory=frozenset)
    # The attendee whose personal link (or media grant) this request came through.
    attendee_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def visibilities(self) -> tuple[Visibility, ...]:
        if self.role == "staff":
            return tuple(Visibility)
        if self.role == "member":
            return (Visibility.PUBLIC, Visibility.MEMBERS)
        return (Visibility.PUBLIC,)


ANONYMOUS = Principal()


def visible_q(principal: Principal, via: str = "") -> Q:
    """The filter on Resource (or, with ``via="resource__"``, on a relation to one) that
    keeps what ``principal`` may open."""
    # Q's stubs type **kwargs as str; the lookups are built from names, so pass them as dicts.
    query = Q(**{f"{via}visibility__in": [v.value for v in principal.visibilities]})  # type: ignore[arg-type]
    if principal.granted_resource_ids and not principal.is_staff:
        ids = sorted(principal.granted_resource_ids)
        query = query | Q(**{f"{via}id__in": ids})  # type: ignore[arg-type]
    return query


def can_view(principal: Principal, resource: Resource) -> bool:
    return may_open(principal, resource.visibility, resource.id)


def may_open(principal: Principal, visibility: str, resource_id: int) -> bool:
    """can_view for a row read without the ORM (the download hot path)."""
    return visibility in principal.visibilities or resource_id in principal.granted_resource_ids


def require_staff(principal: Principal) -> None:
    """401 for nobody, 403 for a member: writes are staff work."""
    if principal.user is None:
        raise Unauthorized("Sign in as staff, or send a staff API token.")
    if not principal.is_staff:
        raise Forbidden("Only staff may change the library.")


def principal_for_user(user: User, via: Via) -> Principal:
    role: RoleName = "staff" if user.role == Role.STAFF else "member"
    return Principal(role=role, user=user, via=via)


# -- passwords ---------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def authenticate(email: str, password: str) -> User | None:
    user = await User.get_or_none(email=email.strip().lower(), is_active=True)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


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


# -- CSRF ------------------------------------------------------------------------------------

def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Double-submit check: the form field or header must equal the CSRF cookie."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = submitted or request.headers.get(CSRF_HEADER, "")
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


async def resolve_principal(request: Request) -> Principal:
    """Bearer token first, then the session cookie, then an attendee's link cookie.

    A bad bearer token is a 401 and a bad attendee link in a header a 403, never anonymous;
    a stale attendee cookie is simply ignored (the link's own page says why it stopped).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        assert isinstance(cached, Principal)
        return cached
    principal = ANONYMOUS
    secret: str = request.app.state.settings.secret_key
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret_text = authorization.partition(" ")
        token = secret_text.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Send the API token as 'Authorization: Bearer <token>'.")
        if token.startswith(links.ATTENDEE_PREFIX):
            principal = await attendee_principal(await links.attendee_for_token(secret, token))
        else:
            user = await user_for_token(token)
            if user is None:
                raise Unauthorized("This API token is not valid (unknown, revoked or malformed).")
            principal = principal_for_user(user, "token")
    else:
        if (cookie := request.cookies.get(SESSION_COOKIE)) is not None:
            user = await user_for_session(cookie)
            if user is not None:
                principal = principal_for_user(user, "session")
        if (link := request.cookies.get(links.ATTENDEE_COOKIE)) and not principal.is_staff:
            try:
                attendee = await links.attendee_for_token(secret, link)
            except Forbidden:
                pass
            else:
                principal = await attendee_principal(attendee, principal)
    request.state.principal = principal
    return principal


async def attendee_principal(attendee: Attendee, base: Principal = ANONYMOUS) -> Principal:
    """What an attendee's link opens, added to whoever the caller already is (a member who
    registered for a webinar keeps their member access)."""
    granted = base.granted_resource_ids | await links.granted_ids(attendee)
    role: RoleName = base.role if base.user is not None else "attendee"
    via: Via = base.via if base.user is not None else "link"
    return Principal(role=role, user=base.user, via=via, granted_resource_ids=granted,
                     attendee_id=attendee.id)


def check_csrf(request: Request, principal: Principal, submitted: str | None = None) -> None:
    """Unsafe requests riding on a cookie must prove they come from our own pages."""
    if request.method in SAFE_METHODS or principal.via != "session":
        return
    if not csrf_ok(request, submitted):
        raise Forbidden("The form's security token is missing or expired: reload the page and "
                        "try again.")
