"""Signed links for webinar attendees: the personal link, and short-lived media grants.

An attendee has no account. Their personal link carries an HMAC-signed token (itsdangerous)
naming the attendee, the webinar, the link's version and its expiry; the database row has
the last word, so a revoked attendee or a bumped ``link_version`` kills every copy of the
link at once. Through it the attendee opens the webinar's recording, slides and transcript
(``Principal.granted_resource_ids``) plus what any anonymous reader may see.

A ``<video>`` element cannot send a header, and a link may be opened where no cookie is
kept, so media URLs handed to an attendee carry ``?grant=…``: a timestamp-signed value naming
the attendee and the one file, valid for ``MEDIA_GRANT_SECONDS``.

Every refusal is a 403 with a message that says what to do; none is ever a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeSerializer

from kitlib.errors import Forbidden
from kitlib.i18n import N_
from kitlib.models import Attendee, Webinar

ATTENDEE_PREFIX = "ka_"
ATTENDEE_COOKIE = "kitlib_attendee"
GRANT_PARAM = "grant"
# Usage timestamps are written at most this often per attendee: a player seeking through a
# recording must not cost a database write per range request.
_TOUCH_EVERY = timedelta(minutes=1)

# Marked for the catalogue: the error page shows them in the reader's language.
_NOT_VALID = N_("This access link is not valid: it may have been mistyped or altered. Use the "
                "link exactly as you received it, or ask the organisers for a new one.")
_WITHDRAWN = N_("This access link has been replaced or withdrawn; ask the organisers for a "
                "new one.")
_REVOKED = N_("This access link has been revoked by the organisers.")
_EXPIRED = N_("This access link has expired; ask the organisers for a new one.")
_GRANT_INVALID = N_("This media link is not valid.")
_GRANT_EXPIRED = N_("This media link has expired: reload the page you came from.")
_GRANT_OTHER = N_("This media link is for another file.")


def _link_serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="kitlib.attendee-link")


def _grant_signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt="kitlib.media-grant")


def attendee_token(secret: str, attendee: Attendee) -> str:
    expires = int(attendee.expires_at.timestamp())
    payload = [attendee.id, attendee.webinar_id, attendee.link_version, expires]
    return ATTENDEE_PREFIX + str(_link_serializer(secret).dumps(payload))


async def attendee_for_token(secret: str, token: str) -> Attendee:
    """The attendee a personal link names, or Forbidden saying why it cannot be used."""
    if not token.startswith(ATTENDEE_PREFIX) or len(token) > 500:
        raise Forbidden(_NOT_VALID)
    try:
        payload = _link_serializer(secret).loads(token[len(ATTENDEE_PREFIX):])
    except BadData:
        raise Forbidden(_NOT_VALID) from None
    if not (isinstance(payload, list) and len(payload) == 4
            and all(type(v) is int for v in payload)):
        raise Forbidden(_NOT_VALID)
    attendee_id, webinar_id, version, expires = payload
    now = datetime.now(UTC)
    if expires <= now.timestamp():
        raise Forbidden(_EXPIRED)
    attendee = await Attendee.get_or_none(id=attendee_id, webinar_id=webinar_id)
    if attendee is None or attendee.link_version != version:
        raise Forbidden(_WITHDRAWN)
    return await _usable(attendee, now)


async def _usable(attendee: Attendee, now: datetime) -> Attendee:
    if attendee.revoked_at is not None:
        raise Forbidden(_REVOKED)
    if attendee.expires_at <= now:
        raise Forbidden(_EXPIRED)
    if attendee.last_used_at is None or now - attendee.last_used_at > _TOUCH_EVERY:
        changes = {"last_used_at": now}
        if attendee.first_used_at is None:
            changes["first_used_at"] = now
        await Attendee.filter(id=attendee.id).update(**changes)
        for name, value in changes.items():
            setattr(attendee, name, value)
    return attendee


def media_grant(secret: str, attendee: Attendee, attachment_id: int) -> str:
    value = f"{attendee.id}.{attendee.link_version}.{attachment_id}"
    return _grant_signer(secret).sign(value).decode()


def granted_url(secret: str, attendee: Attendee, attachment_id: int, url: str) -> str:
    """A file URL the attendee's player or browser can open without header or cookie."""
    grant = media_grant(secret, attendee, attachment_id)
    return f"{url}?{GRANT_PARAM}={quote(grant)}"


async def attendee_for_grant(secret: str, grant: str, attachment_id: int,
                             max_age: int) -> Attendee:
    """The attendee a media grant names, if it is for this file and still good."""
    if len(grant) > 300:
        raise Forbidden(_GRANT_INVALID)
    try:
        value = _grant_signer(secret).unsign(grant, max_age=max_age).decode()
    except SignatureExpired:
        raise Forbidden(_GRANT_EXPIRED) from None
    except (BadData, UnicodeDecodeError):
        raise Forbidden(_GRANT_INVALID) from None
    parts = value.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        raise Forbidden(_GRANT_INVALID)
    attendee_id, version, file_id = (int(p) for p in parts)
    if file_id != attachment_id:
        raise Forbidden(_GRANT_OTHER)
    attendee = await Attendee.get_or_none(id=attendee_id)
    if attendee is None or attendee.link_version != version:
        raise Forbidden(_WITHDRAWN)
    return await _usable(attendee, datetime.now(UTC))


async def granted_ids(attendee: Attendee) -> frozenset[int]:
    """What the link opens beyond the public library: its webinar's recording, slides and
    transcript, and nothing else (not the linked kit, not another webinar's parts)."""
    webinar = await Webinar.get_or_none(id=attendee.webinar_id)
    if webinar is None:
        return frozenset()
    return frozenset(webinar.part_ids())
