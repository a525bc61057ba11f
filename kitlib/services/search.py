"""Full-text search over what the caller may see: parameters, access, the shared searcher.

The index may lag the database, so the database has the last word: resources with a change
still queued are denied unless the database shows them to the caller, and every hit of the
returned page is checked again with ``visible_q`` before it is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, get_args

import anyio.to_thread
from tortoise.expressions import Q

from kitlib import search as si
from kitlib import urls
from kitlib.access.rules import Principal, visible_q
from kitlib.errors import IndexRebuilding, InvalidField
from kitlib.models import Job, JobState, Kind, Kit, Language, Resource, ResourceFile, Webinar
from kitlib.services import indexing as indexer
from kitlib.services.validation import day, is_id, is_slug, page_params
from kitlib.settings import Settings

log = logging.getLogger("kitlib")

SORTS: tuple[si.Sort, ...] = get_args(si.Sort)
FACETS = ("kind", "tag", "language", "kit", "year", "webinar")
MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class Params:
    """A search request, validated."""

    q: str = ""
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    kits: tuple[int, ...] = ()
    webinars: tuple[int, ...] = ()
    start: date | None = None
    end: date | None = None
    sort: si.Sort = "relevance"
    page: int = 1
    per_page: int = 20



async def parse_params(params: Any) -> Params:
    """Query parameters of /api/search; a bad filter raises InvalidField naming it."""
    page, per_page = page_params(params)
    kinds = tuple(_choice("kind", v, Kind) for v in params.getlist("kind") if v)
    languages = tuple(_choice("language", v, Language) for v in params.getlist("language") if v)
    tags = tuple(t.strip().lower() for t in params.getlist("tag") if t.strip())
    kits: list[int] = []
    for slug in (s for s in params.getlist("kit") if s):
        # Only a well-formed slug goes to the database: PostgreSQL refuses NUL (a 500).
        kit = await Kit.get_or_none(slug=slug.strip()) if is_slug(slug.strip()) else None
        if kit is None:
            raise InvalidField("kit", f"no kit with the slug {slug[:100]!r}")
        kits.append(kit.id)
    webinars = []
    for raw in (w for w in params.getlist("webinar") if w):
        if not is_id(raw):
            raise InvalidField("webinar", "must be a webinar id (a positive integer)")
        webinars.append(int(raw))
    start, end = day("from", params.get("from")), day("to", params.get("to"))
    if start and end and start > end:
        raise InvalidField("from", "is after 'to'")
    sort: si.Sort = "relevance"
    raw_sort = params.get("sort") or "relevance"
    for known in SORTS:
        if raw_sort == known:
            sort = known
            break
    else:
        raise InvalidField("sort", f"{raw_sort[:40]!r} is not one of: {', '.join(SORTS)}")
    return Params(q=(params.get("q") or "")[:MAX_QUERY_CHARS], kinds=kinds, tags=tags,
                  languages=languages, kits=tuple(kits), webinars=tuple(webinars), start=start,
                  end=end, sort=sort, page=page, per_page=per_page)


def _choice(name: str, value: str, enum: type[Kind] | type[Language]) -> str:
    allowed = [m.value for m in enum]
    if value.strip().lower() not in allowed:
        raise InvalidField(name, f"{value[:40]!r} is not one of: {', '.join(allowed)}")
    return value.strip().lower()


async def access_for(principal: Principal, params: Params | None = None) -> si.Access:
    """The index's access filter for this caller, corrected by the database."""
    pending = {int(r["resource_id"]) for r in await Job.filter(
        state__in=[JobState.QUEUED, JobState.RUNNING]).values("resource_id")}
    deny: set[int] = set()
    if pending:
        shown = await Resource.filter(visible_q(principal), id__in=sorted(pending)).values("id")
        deny = pending - {int(r["id"]) for r in shown}
    if params is not None and (params.start or params.end):
        deny |= await _outside(params.start, params.end)
    if principal.is_staff:
        return si.Access(everything=True, deny_ids=frozenset(deny))
    return si.Access(visibilities=frozenset(v.value for v in principal.visibilities),
                     allow_ids=principal.granted_resource_ids, deny_ids=frozenset(deny))


async def _outside(start: date | None, end: date | None) -> set[int]:
    """Resources dated (published, else created) outside [start, end]."""
    parts: list[Q] = []
    for bound, lookup in ((start, "lt"), (end, "gte")):
        if bound is None:
            continue
        day = datetime(bound.year, bound.month, bound.day, tzinfo=UTC)
        if lookup == "gte":
            day += timedelta(days=1)
        part = Q(**{f"published_at__{lookup}": day}) | Q(  # type: ignore[arg-type]
            Q(published_at=None), Q(**{f"created_at__{lookup}": day}))  # type: ignore[arg-type]
        parts.append(part)
    query = parts[0] if len(parts) == 1 else parts[0] | parts[1]
    return {int(r["id"]) for r in await Resource.filter(query).values("id")}


@dataclass
class SearchService:
    """The app's one searcher, and the rebuild started when the index cannot be served."""

    settings: Settings
    searcher: si.Searcher | None = None
    rebuild_task: asyncio.Task[int] | None = None
    warm_task: asyncio.Task[None] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def start_rebuild(self) -> None:
        if self.rebuild_task is None or self.rebuild_task.done():
            log.warning("search index unavailable: rebuilding it from the database")
            self.rebuild_task = asyncio.create_task(indexer.rebuild(self.settings))

    async def close(self) -> None:
        for task in (self.rebuild_task, self.warm_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None

    async def _searcher(self) -> si.Searcher:
        async with self._lock:
            if self.rebuild_task is not None and not self.rebuild_task.done():
                raise IndexRebuilding()
            if self.searcher is None:
                path = self.settings.index_dir
                if not (path / si.CURRENT).is_symlink() and await Resource.exists():
                    self.start_rebuild()
                    raise IndexRebuilding()
                try:
                    self.searcher = await anyio.to_thread.run_sync(si.Searcher, path)
                except si.IndexUnavailable:
                    self.start_rebuild()
                    raise IndexRebuilding() from None
                self.warm_task = asyncio.create_task(self._warm(self.searcher))
            return self.searcher

    @staticmethod
    async def _warm(searcher: si.Searcher) -> None:
        """Decode the commonest posting lists in the background (see Searcher.warm)."""
        try:
            spent = await anyio.to_thread.run_sync(searcher.warm, abandon_on_cancel=True)
        except Exception:  # a swap or a close midway: searches simply decode on demand
            log.debug("search cache warm-up stopped", exc_info=True)
        else:
            log.info("search cache warmed: %d postings decoded", spent)

    async def run(self, call: Any) -> Any:
        """Run ``call(searcher)`` in a thread; an unreadable index starts a rebuild (503)."""
        searcher = await self._searcher()
        try:
            return await anyio.to_thread.run_sync(call, searcher)
        except si.IndexBusy:
            raise IndexRebuilding(2) from None
        except Exception as exc:
            broken = isinstance(exc, si.IndexUnavailable) or await anyio.to_thread.run_sync(
                si.needs_rebuild, self.settings.index_dir)
            if not broken:
                raise
            async with self._lock:
                if self.searcher is searcher:
                    searcher.close()
                    self.searcher = None
                self.start_rebuild()
            raise IndexRebuilding() from None


def _filters(params: Params) -> si.Filters:
    return si.Filters(kinds=params.kinds, languages=params.languages, tags=params.tags,
                      kits=params.kits, webinars=params.webinars)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]", " ", text).split())


async def search(service: SearchService, principal: Principal, params: Params) -> dict[str, Any]:
    """The /api/search answer."""
    access = await access_for(principal, params)
    run = partial(_search_sync, params=params, access=access)
    result: si.SearchResult = await service.run(run)
    ids = [h.id for h in result.hits]
    rows = {r.id: r for r in await Resource.filter(visible_q(principal), id__in=ids)}
    media = await _media_urls(principal, list(rows.values()))
    hits = [_hit_json(h, rows[h.id], media.get(h.id)) for h in result.hits if h.id in rows]
    return {"total": result.total, "page": params.page, "per_page": params.per_page,
            "hits": hits, "facets": await _facets(result.facets),
            "suggestion": result.suggestion}


def _search_sync(searcher: si.Searcher, *, params: Params, access: si.Access) -> si.SearchResult:
    kwargs: dict[str, Any] = {"access": access, "filters": _filters(params), "sort": params.sort,
                              "page": params.page, "per_page": params.per_page}
    try:
        return searcher.search(params.q, **kwargs)
    except si.SearchIndexError:
        raise
    except Exception:
        # A query the parser chokes on is read as plain words, never answered with a 500.
        log.warning("search for %r failed; retrying as plain words", params.q, exc_info=True)
        return searcher.search(_plain(params.q), **kwargs)


async def matching_ids(service: SearchService, principal: Principal, params: Params,
                       limit: int) -> tuple[int, list[int]]:
    """How many resources match the query and filters, and at most ``limit`` of their ids
    (unordered, not yet checked against the database)."""
    access = await access_for(principal, params)

    def run(searcher: si.Searcher) -> tuple[int, list[int]]:
        kwargs: dict[str, Any] = {"access": access, "filters": _filters(params), "limit": limit}
        try:
            return searcher.matching_ids(params.q, **kwargs)
        except si.SearchIndexError:
            raise
        except Exception:  # as in _search_sync: a query the parser chokes on is plain words
            log.warning("search for %r failed; retrying as plain words", params.q, exc_info=True)
            return searcher.matching_ids(_plain(params.q), **kwargs)

    found: tuple[int, list[int]] = await service.run(run)
    return found


def _hit_json(hit: si.Hit, resource: Resource, media_url: str | None) -> dict[str, Any]:
    return {
        "id": resource.id, "title": resource.title, "title_html": hit.title_html,
        "kind": resource.kind.value, "language": resource.language.value,
        "snippet": hit.snippet_html, "url": urls.resource(resource.id),
        "score": round(hit.score, 4),
        # Media fragment #t=<seconds> makes the player start at the cue (RFC: W3C Media Fragments).
        "transcript_hits": [{"start": c.start, "text": c.text, "html": c.html,
                             "url": f"{media_url}#t={c.start:g}" if media_url else None}
                            for c in hit.transcript_hits],
    }


async def _media_urls(principal: Principal, resources: list[Resource]) -> dict[int, str]:
    """For resources with cues, the file to play: the webinar's recording, else their own."""
    with_cues = [r for r in resources if r.cues]
    if not with_cues:
        return {}
    target = {r.id: r.id for r in with_cues}
    for webinar in await Webinar.filter(transcript_id__in=list(target)):
        if webinar.recording_id and webinar.transcript_id:
            target[webinar.transcript_id] = webinar.recording_id
    allowed = {int(i["id"]) for i in await Resource.filter(
        visible_q(principal), id__in=list(set(target.values()))).values("id")}
    files: dict[int, str] = {}
    for row in await ResourceFile.filter(resource_id__in=list(allowed)).order_by("-position",
                                                                                 "-id"):
        files[row.resource_id] = urls.file(row.id, row.filename)  # type: ignore[attr-defined]
    out = {}
    for rid, media in target.items():
        url = files.get(media) or files.get(rid)
        if url:
            out[rid] = url
    return out


async def _facets(raw: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out = {name: dict(raw.get(name, {})) for name in FACETS}
    kit_ids = [int(k) for k in out["kit"] if k.isdigit()]
    slugs = {k.id: k.slug for k in await Kit.filter(id__in=kit_ids)}
    out["kit"] = {slugs[int(k)]: n for k, n in out["kit"].items()
                  if k.isdigit() and int(k) in slugs}
    return out


async def facet_titles(kit_slugs: list[str], webinar_ids: list[int]
                       ) -> dict[tuple[str, str], str]:
    """(facet, value) -> the title a page shows for it, for kit and webinar facets."""
    titles = {("kit", k.slug): k.title for k in await Kit.filter(slug__in=kit_slugs)}
    titles.update({("webinar", str(w.id)): w.title
                   for w in await Webinar.filter(id__in=webinar_ids)})
    return titles


async def suggest(service: SearchService, principal: Principal, prefix: str) -> dict[str, Any]:
    """The /api/suggest answer: titles the caller may open, then words from their documents."""
    access = await access_for(principal)
    found: list[si.Completion] = await service.run(
        lambda searcher: searcher.suggest(prefix[:200], access=access))
    ids = [c.id for c in found if c.id is not None]
    shown = {r.id: r for r in await Resource.filter(visible_q(principal), id__in=ids)}
    out: list[dict[str, Any]] = []
    for c in found:
        if c.kind == "title":
            if c.id in shown:
                out.append({"text": shown[c.id].title, "kind": "title", "id": c.id,
                            "url": urls.resource(c.id)})
        else:
            out.append({"text": c.text, "kind": "term"})
    return {"suggestions": out}
