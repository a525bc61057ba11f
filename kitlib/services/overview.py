"""What the home page and the staff dashboard list: the latest resources, the kits, webinars
to come and past, and the resources whose text extraction is waiting or failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kitlib.access.rules import Principal, visible_q
from kitlib.models import ExtractionStatus, Kit, Resource, Webinar
from kitlib.services.resources import to_json

LATEST = 8
WEBINARS = 6
WAITING = 20
RECENT = 10


@dataclass(frozen=True)
class Home:
    resources: list[dict[str, Any]]  # the latest the caller may open, as the API shows them
    kits: list[Kit]
    upcoming: list[Webinar]
    past: list[Webinar]


@dataclass(frozen=True)
class StaffQueue:
    waiting: list[Resource]  # extraction pending or failed, most recently changed first
    recent: list[Resource]


async def home(principal: Principal) -> Home:
    latest = await Resource.filter(visible_q(principal)).order_by("-created_at", "-id") \
        .limit(LATEST)
    now = datetime.now(UTC)
    return Home(
        resources=await to_json(latest),
        kits=list(await Kit.all().order_by("title")),
        upcoming=list(await Webinar.filter(starts_at__gte=now).order_by("starts_at")
                      .limit(WEBINARS)),
        past=list(await Webinar.filter(starts_at__lt=now).order_by("-starts_at")
                  .limit(WEBINARS)))


async def staff_queue(principal: Principal) -> StaffQueue:
    waiting = await Resource.filter(
        visible_q(principal),
        extraction_status__in=[ExtractionStatus.PENDING, ExtractionStatus.FAILED],
    ).order_by("-updated_at").limit(WAITING)
    recent = await Resource.filter(visible_q(principal)).order_by("-created_at").limit(RECENT)
    return StaffQueue(list(waiting), list(recent))
