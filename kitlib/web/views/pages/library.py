"""The library's pages: a resource, a kit, a webinar with its player, transcript and captions.

Each page asks the same services as the JSON API, so what a page shows is exactly what the
caller may open there.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kitlib import formats
from kitlib.access import links
from kitlib.access.rules import Principal
from kitlib.errors import IndexRebuilding, NotFound
from kitlib.models import WEBINAR_PARTS, Resource
from kitlib.services import attendees as attendee_svc
from kitlib.services import kits as kit_svc
from kitlib.services import resources as svc
from kitlib.services import search as search_svc
from kitlib.services.captions import webvtt
from kitlib.web.auth import resolve_principal
from kitlib.web.common import path_int, settings_of
from kitlib.web.render import render
from kitlib.web.views.api.search import service_of

RELATED = 5


async def _related(request: Request, principal: Any, resource: Resource) -> list[dict[str, Any]]:
    """More like this: what the search service finds for the resource's tags, else its title."""
    words = " OR ".join(f'"{t}"' for t in resource.tags[:6]) or resource.title
    params = search_svc.Params(q=words, per_page=RELATED + 1)
    try:
        found = await search_svc.search(service_of(request), principal, params)
    except IndexRebuilding:
        return []  # the page is still worth showing while the index rebuilds
    return [h for h in found["hits"] if h["id"] != resource.id][:RELATED]


async def resource_page(request: Request) -> Response:
    principal = await resolve_principal(request)
    resource = await svc.get_visible(principal, path_int(request, "resource_id"))
    data = (await svc.to_json([resource], staff=principal.is_staff))[0]
    return render(request, "resource.html", resource=data,
                  webinar=await kit_svc.webinar_of(resource.id),
                  related=await _related(request, principal, resource))


async def kit_page(request: Request) -> Response:
    principal = await resolve_principal(request)
    kit = await kit_svc.get_kit(request.path_params["slug"])
    data = await kit_svc.kit_json(kit, principal)
    size = sum(f["size"] for item in data["items"] for f in item["resource"]["files"])
    return render(request, "kit.html", kit=data, total_size=size)


def _start_at(request: Request) -> float | None:
    """``?t=`` from a search hit: the second the player should start at."""
    try:
        seconds = float(request.query_params.get("t", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


async def _cues(data: dict[str, Any]) -> list[list[object]]:
    if data["transcript"] is None:  # absent, or hidden from this caller by webinar_json
        return []
    return await kit_svc.transcript_cues(data["transcript"]["id"])


async def webinar_page(request: Request) -> Response:
    principal = await resolve_principal(request)
    webinar = await kit_svc.get_webinar(path_int(request, "webinar_id"))
    data = await kit_svc.webinar_json(webinar, principal)
    await _grant_media(request, principal, data)
    files = (data["recording"] or {}).get("files") or []
    media = next((f for f in files if formats.is_media(f["media_type"])), None)
    cues = await _cues(data)
    return render(request, "webinar.html", webinar=data, media=media, cues=cues,
                  start=_start_at(request),
                  kit=await kit_svc.get_kit(data["kit"]) if data["kit"] else None)


async def _grant_media(request: Request, principal: Principal, data: dict[str, Any]) -> None:
    """An attendee's media URLs carry a signed grant (``<video>`` sends no header, and a
    browser that keeps no cookie still plays): see kitlib/links.py."""
    if principal.attendee_id is None:
        return
    attendee = await attendee_svc.find(principal.attendee_id)
    if attendee is None:
        return
    secret = settings_of(request).secret_key
    for part in WEBINAR_PARTS:
        resource = data.get(part)
        if not resource or resource["visibility"] in principal.visibilities:
            continue
        for file in resource.get("files") or []:
            file["url"] = links.granted_url(secret, attendee, int(file["id"]), file["url"])


async def webinar_captions(request: Request) -> Response:
    """The transcript as WebVTT captions for the player's <track>."""
    principal = await resolve_principal(request)
    webinar = await kit_svc.get_webinar(path_int(request, "webinar_id"))
    data = await kit_svc.webinar_json(webinar, principal)
    cues = await _cues(data)
    if not cues:
        raise NotFound("This webinar has no transcript you may read.")
    files = (data["recording"] or {}).get("files") or [{}]
    return Response(webvtt(cues, files[0].get("duration")), media_type="text/vtt",
                    headers={"Cache-Control": "private, no-cache"})
