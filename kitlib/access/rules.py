"""Who may see what: the caller as a ``Principal``, and the visibility rules.

Access is decided here and nowhere else. ``visible_q`` turns a principal into the database
filter every listing, search, feed and bundle goes through, and ``can_view`` answers for one
resource. Items a caller may not see answer 404, exactly as missing ones do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tortoise.expressions import Q

from kitlib.access import links
from kitlib.errors import Forbidden, Unauthorized
from kitlib.models import Attendee, Resource, Role, User, Visibility

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


async def attendee_principal(attendee: Attendee, base: Principal = ANONYMOUS) -> Principal:
    """What an attendee's link opens, added to whoever the caller already is (a member who
    registered for a webinar keeps their member access)."""
    granted = base.granted_resource_ids | await links.granted_ids(attendee)
    role: RoleName = base.role if base.user is not None else "attendee"
    via: Via = base.via if base.user is not None else "link"
    return Principal(role=role, user=base.user, via=via, granted_resource_ids=granted,
                     attendee_id=attendee.id)
