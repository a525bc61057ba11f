"""Atom feeds (RFC 4287) of new resources for any search filter, as an anonymous reader sees them.

A feed URL gets shared, pasted into readers and cached by them, so it ignores sessions and
API tokens: without a ``token`` parameter it shows the public library, whoever fetches it.
A member's personal feed token (scope "feed": it opens nothing but the feed) shows what
that member may open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kitlib.access.rules import ANONYMOUS, Principal, visible_q
from kitlib.models import Resource, ResourceFile
from kitlib.services import search as search_svc
from kitlib.urls import Links

FEED_SIZE = 50
# XML 1.0 forbids these characters even as references; a title pasted from a PDF may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Text that is legal in an XML document (escaping is the template's job)."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Entry:
    resource: Resource
    file: ResourceFile | None


async def entries(service: search_svc.SearchService, params: search_svc.Params,
                  principal: Principal = ANONYMOUS) -> list[Entry]:
    """The newest resources matching the filters that the reader may open, newest first."""
    params = replace(params, sort="newest", page=1, per_page=FEED_SIZE)
    found = await search_svc.search(service, principal, params)
    ids = [int(hit["id"]) for hit in found["hits"]]
    # The index may lag: the database decides what the reader may open now.
    rows = {r.id: r for r in await Resource.filter(visible_q(principal), id__in=ids)}
    files: dict[int, ResourceFile] = {}
    for row in await ResourceFile.filter(resource_id__in=list(rows)).select_related("file") \
            .order_by("position", "id"):
        files.setdefault(row.resource_id, row)  # type: ignore[attr-defined]
    return [Entry(rows[i], files.get(i)) for i in ids if i in rows]


def context(site: Links, self_url: str, params: search_svc.Params,
            found: list[Entry]) -> dict[str, Any]:
    """What templates/feed.atom renders."""
    words = [params.q] if params.q else []
    words += [f"tag {t}" for t in params.tags] + [f"kind {k}" for k in params.kinds]
    words += [f"language {lang}" for lang in params.languages]
    title = "kitlib: new resources" + (f" ({', '.join(words)})" if words else "")
    updated = max((e.resource.updated_at for e in found), default=datetime.now(UTC))
    items = []
    for entry in found:
        r = entry.resource
        item: dict[str, Any] = {
            "id": site.resource(r.id), "title": r.title, "summary": r.summary,
            "updated": rfc3339(r.updated_at), "published": rfc3339(r.published_at or r.created_at),
            "tags": list(r.tags or []), "language": r.language.value, "enclosure": None}
        if entry.file is not None:
            stored = entry.file.file
            item["enclosure"] = {
                "href": site.file(entry.file.id, entry.file.filename),
                "type": stored.media_type, "length": stored.size}
        items.append(item)
    return {"feed_id": self_url, "title": title, "self_url": self_url, "home": site.home(),
            "updated": rfc3339(updated), "entries": items}
