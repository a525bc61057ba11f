"""Kits (curated, ordered collections) and webinars: reads filtered by access, staff writes."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from kitlib import urls
from kitlib.access.rules import Principal, can_view, visible_q
from kitlib.errors import Conflict, InvalidField, NotFound
from kitlib.jobs.queue import enqueue
from kitlib.models import (
    WEBINAR_PARTS,
    JobKind,
    Kit,
    KitItem,
    Resource,
    ResourceFile,
    User,
    Webinar,
)
from kitlib.services import validation as v
from kitlib.services.resources import audit, to_json

KIT_FIELDS = {"slug", "title", "description", "items"}
WEBINAR_FIELDS = {"title", "description", "starts_at", "speakers", "recording", "slides",
                  "transcript", "kit", "chapters"}
MAX_CHAPTERS = 200
# Where a webinar's chapters come from: entered by staff, else marked in its transcript.
CHAPTER_SOURCES = ("staff", "transcript")
_CLOCK = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d{1,3})?)$")


# -- kits ------------------------------------------------------------------------------------

def _items(value: Any) -> list[tuple[int, str | None]]:
    """(resource id, note) in kit order; the note is None for a bare id, which keeps the
    item's note (reordering by ids must not erase what staff wrote)."""
    if not isinstance(value, list):
        raise InvalidField("items", "must be a list of resource ids or {resource, note} objects")
    items: list[tuple[int, str | None]] = []
    for entry in value:
        if isinstance(entry, dict):
            v.reject_unknown(entry, {"resource", "note"})
            rid = v.optional_id("items", entry.get("resource"))
            note = v.long_text("items", entry.get("note"), max_length=2000)
        else:
            rid, note = v.optional_id("items", entry), None
        if rid is None:
            raise InvalidField("items", "every item needs a resource id")
        if rid in {i for i, _ in items}:
            raise InvalidField("items", f"resource {rid} is listed twice")
        items.append((rid, note))
    if len(items) > 1000:
        raise InvalidField("items", "a kit holds at most 1000 items")
    return items


async def _set_items(kit: Kit, items: list[tuple[int, str | None]]) -> None:
    ids = [rid for rid, _ in items]
    found = {int(row["id"]) for row in await Resource.filter(id__in=ids).values("id")}
    missing = [rid for rid in ids if rid not in found]
    if missing:
        raise InvalidField("items", f"no resource with id {missing[0]}")
    notes = {int(r["resource_id"]): str(r["note"])
             for r in await KitItem.filter(kit=kit).values("resource_id", "note")}
    before = list(notes)
    await KitItem.filter(kit=kit).delete()
    for position, (rid, note) in enumerate(items):
        await KitItem.create(kit=kit, resource_id=rid, position=position,
                             note=notes.get(rid, "") if note is None else note)
    # Kit membership is a search facet: re-index whatever joined or left.
    await enqueue(JobKind.INDEX, set(before) ^ set(ids))


async def _item_ids(kit: Kit) -> list[int]:
    return [int(r["resource_id"]) for r in await KitItem.filter(kit=kit).values("resource_id")]


async def list_kits() -> list[Kit]:
    return list(await Kit.all().order_by("title", "id"))


async def get_kit(slug: str) -> Kit:
    # A slug kitlib could not have made names no kit; PostgreSQL would refuse a NUL (a 500).
    kit = await Kit.get_or_none(slug=slug) if v.is_slug(slug) else None
    if kit is None:
        raise NotFound("No such kit.")
    return kit


async def kit_json(kit: Kit, principal: Principal, *, with_items: bool = True) -> dict[str, Any]:
    rows = await KitItem.filter(visible_q(principal, via="resource__"), kit=kit) \
        .select_related("resource").order_by("position", "id")
    data: dict[str, Any] = {"id": kit.id, "slug": kit.slug, "title": kit.title,
                            "description": kit.description, "item_count": len(rows),
                            "url": urls.kit(kit.slug),
                            "updated_at": kit.updated_at.isoformat()}
    if with_items:
        resources = await to_json([row.resource for row in rows])
        data["items"] = [{"position": i, "note": row.note, "resource": res}
                         for i, (row, res) in enumerate(zip(rows, resources, strict=True))]
    return data


async def create_kit(body: Mapping[str, Any], user: User | None) -> Kit:
    body = v.json_object(body)
    v.reject_unknown(dict(body), KIT_FIELDS)
    slug = v.slug("slug", body.get("slug"))
    title = v.one_line("title", body.get("title"), max_length=300)
    description = v.long_text("description", body.get("description"))
    items = _items(body.get("items", []))
    async with in_transaction():
        if await Kit.filter(slug=slug).exists():
            raise Conflict(f"A kit with the slug {slug!r} already exists.")
        kit = await Kit.create(slug=slug, title=title, description=description)
        await _set_items(kit, items)
        await audit(user, "kit.create", "kit", kit.id, slug=slug)
    return kit


async def update_kit(kit: Kit, body: Mapping[str, Any], user: User | None) -> None:
    body = v.json_object(body)
    v.reject_unknown(dict(body), KIT_FIELDS)
    async with in_transaction():
        if "slug" in body:
            slug = v.slug("slug", body["slug"])
            if slug != kit.slug and await Kit.filter(slug=slug).exists():
                raise Conflict(f"A kit with the slug {slug!r} already exists.")
            kit.slug = slug
        if "title" in body:
            kit.title = v.one_line("title", body["title"], max_length=300)
        if "description" in body:
            kit.description = v.long_text("description", body["description"])
        await kit.save()
        if "items" in body:
            await _set_items(kit, _items(body["items"]))
        await audit(user, "kit.update", "kit", kit.id, fields=sorted(body))


async def delete_kit(kit: Kit, user: User | None) -> None:
    async with in_transaction():
        await audit(user, "kit.delete", "kit", kit.id, slug=kit.slug)
        await enqueue(JobKind.INDEX, await _item_ids(kit))
        await kit.delete()


# -- webinars --------------------------------------------------------------------------------

def _speakers(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise InvalidField("speakers", "must be a list of {name, organisation} objects")
    speakers = []
    for entry in value:
        if not isinstance(entry, dict):
            raise InvalidField("speakers", "every speaker is a {name, organisation} object")
        v.reject_unknown(entry, {"name", "organisation"})
        speakers.append({
            "name": v.one_line("speakers", entry.get("name"), max_length=200),
            "organisation": v.one_line("speakers", entry.get("organisation"), max_length=200,
                                       required=False)})
    return speakers


def _seconds(value: Any) -> float:
    """A chapter start: seconds (754.5) or a clock reading ("12:34.5", "1:02:03")."""
    if isinstance(value, bool):
        raise InvalidField("chapters", "a start is seconds or HH:MM:SS")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _CLOCK.match(value.strip())):
        seconds = int(m[1] or 0) * 3600 + int(m[2]) * 60 + float(m[3])
    else:
        raise InvalidField("chapters", f"{str(value)[:40]!r} is not seconds or HH:MM:SS")
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidField("chapters", "a start is zero or more seconds")
    return round(seconds, 3)


def _chapters(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_CHAPTERS:
        raise InvalidField("chapters", f"must be a list of at most {MAX_CHAPTERS} "
                                       "{start, title} objects")
    chapters: list[dict[str, Any]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise InvalidField("chapters", "every chapter is a {start, title} object")
        v.reject_unknown(entry, {"start", "title"})
        start = _seconds(entry.get("start"))
        if chapters and start <= chapters[-1]["start"]:
            raise InvalidField("chapters", "starts must increase from one chapter to the next")
        chapters.append({"start": start,
                         "title": v.one_line("chapters", entry.get("title"), max_length=200)})
    return chapters


async def _check_chapters_fit(values: dict[str, Any], webinar: Webinar | None) -> None:
    """A chapter may not start after the end of the recording, when its length is known."""
    chapters = values.get("chapters", webinar.chapters if webinar else [])
    recording = values.get("recording_id", webinar.recording_id if webinar else None)
    if not chapters or recording is None:
        return
    durations = [d for d in await ResourceFile.filter(resource_id=recording)
                 .values_list("file__duration", flat=True) if d]
    if durations and chapters[-1]["start"] > max(durations):
        raise InvalidField("chapters", f"a chapter starts at {chapters[-1]['start']:g} s, after "
                                       f"the end of the recording ({max(durations):g} s)")


async def _webinar_values(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    body = v.json_object(body)
    v.reject_unknown(dict(body), WEBINAR_FIELDS)
    values: dict[str, Any] = {}
    if "title" in body or not partial:
        values["title"] = v.one_line("title", body.get("title"), max_length=300)
    if "starts_at" in body or not partial:
        values["starts_at"] = v.timestamp("starts_at", body.get("starts_at"), required=True)
    if "description" in body:
        values["description"] = v.long_text("description", body["description"])
    if "speakers" in body:
        values["speakers"] = _speakers(body["speakers"])
    if "chapters" in body:
        values["chapters"] = _chapters(body["chapters"])
    for part in WEBINAR_PARTS:
        if part in body:
            rid = v.optional_id(part, body[part])
            if rid is not None and not await Resource.filter(id=rid).exists():
                raise InvalidField(part, f"no resource with id {rid}")
            values[f"{part}_id"] = rid
    if "kit" in body:
        if body["kit"] is None:
            values["kit_id"] = None
        else:
            kit = await Kit.get_or_none(slug=v.slug("kit", body["kit"]))
            if kit is None:
                raise InvalidField("kit", f"no kit with the slug {body['kit']!r}")
            values["kit_id"] = kit.id
    return values


async def get_webinar(webinar_id: int) -> Webinar:
    webinar = await Webinar.get_or_none(id=webinar_id)
    if webinar is None:
        raise NotFound("No such webinar.")
    return webinar


async def list_webinars(page: int, per_page: int) -> tuple[int, list[Webinar]]:
    """One page of webinars, latest first, and how many there are in all."""
    query = Webinar.all()
    total = await query.count()
    rows = await query.order_by("-starts_at", "-id").offset((page - 1) * per_page).limit(per_page)
    return total, list(rows)


async def webinar_of(resource_id: int) -> Webinar | None:
    """The webinar this resource is the recording, the slides or the transcript of."""
    return await Webinar.filter(Q(recording_id=resource_id) | Q(slides_id=resource_id)
                                | Q(transcript_id=resource_id)).first()


async def webinars_of_media(resource_ids: list[int]) -> dict[int, int]:
    """Resource id -> the webinar it is the recording or transcript of."""
    if not resource_ids:
        return {}
    found: dict[int, int] = {}
    for w in await Webinar.filter(Q(transcript_id__in=resource_ids)
                                  | Q(recording_id__in=resource_ids)):
        for rid in (w.transcript_id, w.recording_id):
            if rid is not None and rid in resource_ids:
                found[rid] = w.id
    return found


async def transcript_cues(resource_id: int) -> list[list[object]]:
    transcript = await Resource.get_or_none(id=resource_id)
    return list(transcript.cues) if transcript else []


async def webinar_json(webinar: Webinar, principal: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": webinar.id, "title": webinar.title, "description": webinar.description,
        "starts_at": webinar.starts_at.isoformat(), "speakers": webinar.speakers,
        "url": urls.webinar(webinar.id), "kit": None}
    for part in WEBINAR_PARTS:
        rid = getattr(webinar, f"{part}_id")
        resource = await Resource.get_or_none(id=rid) if rid else None
        # A part this caller may not open is shown as absent, like any hidden resource.
        shown = resource is not None and can_view(principal, resource)
        data[part] = (await to_json([resource]))[0] if shown and resource else None
    # Each chapter links into the recording (a media fragment) when the caller may play it.
    files = (data["recording"] or {}).get("files") or [{}]
    media = files[0].get("url")
    by_staff, by_transcript = CHAPTER_SOURCES
    chapters, source = webinar.chapters, by_staff if webinar.chapters else None
    if not chapters and data["transcript"] is not None:
        transcript = await Resource.get(id=data["transcript"]["id"])
        chapters = transcript_chapters(transcript.cues)
        source = by_transcript if chapters else None
    data["chapters"] = [{**c, "url": f"{media}#t={c['start']:g}" if media else None}
                        for c in chapters]
    data["chapters_source"] = source
    if webinar.kit_id:
        kit = await Kit.get_or_none(id=webinar.kit_id)
        data["kit"] = kit.slug if kit else None
    return data


async def create_webinar(body: Mapping[str, Any], user: User | None) -> Webinar:
    values = await _webinar_values(body, partial=False)
    await _check_chapters_fit(values, None)
    async with in_transaction():
        webinar = await Webinar.create(**values)
        await enqueue(JobKind.INDEX, webinar.part_ids())
        await audit(user, "webinar.create", "webinar", webinar.id, title=webinar.title)
    return webinar


async def update_webinar(webinar: Webinar, body: Mapping[str, Any], user: User | None) -> None:
    values = await _webinar_values(body, partial=True)
    if not values:
        raise InvalidField("body", "names no field to change")
    await _check_chapters_fit(values, webinar)
    async with in_transaction():
        before = webinar.part_ids()
        for name, value in values.items():
            setattr(webinar, name, value)
        await webinar.save()
        # Speakers and the webinar link are indexed with the recording, slides and transcript.
        await enqueue(JobKind.INDEX, before | webinar.part_ids())
        await audit(user, "webinar.update", "webinar", webinar.id, fields=sorted(values))


async def delete_webinar(webinar: Webinar, user: User | None) -> None:
    async with in_transaction():
        await audit(user, "webinar.delete", "webinar", webinar.id, title=webinar.title)
        await enqueue(JobKind.INDEX, webinar.part_ids())
        await webinar.delete()


def transcript_chapters(cues: list[list[object]]) -> list[dict[str, Any]]:
    """Chapters marked in a WebVTT transcript by cue identifiers (kitlib/extract/transcripts.py
    keeps them as a cue's third element), used when staff entered none."""
    out: list[dict[str, Any]] = []
    for cue in cues:
        if len(cue) > 2 and isinstance(cue[2], str) and isinstance(cue[0], int | float):
            if out and cue[0] <= out[-1]["start"]:
                continue
            out.append({"start": float(cue[0]), "title": cue[2]})
    return out[:MAX_CHAPTERS]
