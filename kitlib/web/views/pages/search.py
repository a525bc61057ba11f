"""The search page: the same search service as /api/search, rendered with facets to combine."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from kitlib import urls
from kitlib.services import kits
from kitlib.services import search as svc
from kitlib.web.auth import resolve_principal
from kitlib.web.render import render
from kitlib.web.views.api.search import service_of

# Parameters that choose *what* is found; the bundle link carries exactly these.
FILTER_NAMES = ("q", "kind", "tag", "language", "kit", "webinar", "from", "to")
PER_PAGE = 10


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    active: bool
    href: str


def _query(request: Request, items: list[tuple[str, str]]) -> str:
    path = str(request.app.url_path_for("search"))
    return f"{path}?{urlencode(items)}" if items else path


def _toggle(items: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """The filters with ``name=value`` added, or removed when already there; back to page 1."""
    kept = [(k, v) for k, v in items if k != "page"]
    if (name, value) in kept:
        return [(k, v) for k, v in kept if (k, v) != (name, value)]
    return [*kept, (name, value)]


def _year_items(items: list[tuple[str, str]], year: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in items if k not in ("page", "from", "to")]
    if dict(items).get("from") == f"{year}-01-01" and dict(items).get("to") == f"{year}-12-31":
        return kept
    return [*kept, ("from", f"{year}-01-01"), ("to", f"{year}-12-31")]


async def _facets(request: Request, items: list[tuple[str, str]], raw: dict[str, dict[str, int]]
                  ) -> dict[str, list[FacetValue]]:
    titles = await svc.facet_titles(list(raw.get("kit", {})),
                                    [int(w) for w in raw.get("webinar", {}) if w.isdigit()])
    out: dict[str, list[FacetValue]] = {}
    for name, counts in raw.items():
        values = []
        for value, count in counts.items():
            if name == "year":
                target = _year_items(items, value)
                active = len(target) < len([i for i in items if i[0] != "page"])
            else:
                target = _toggle(items, name, value)
                active = (name, value) in items
            label = titles.get((name, value), value)
            values.append(FacetValue(value, label, count, active, _query(request, target)))
        if name == "year":
            values.sort(key=lambda f: f.value, reverse=True)
        out[name] = values
    return out


async def search_page(request: Request) -> Response:
    principal = await resolve_principal(request)
    items = [(k, v) for k, v in request.query_params.multi_items() if v]
    query = request.query_params
    params = await svc.parse_params(query)
    if "per_page" not in query:
        params = replace(params, per_page=PER_PAGE)
    result = await svc.search(service_of(request), principal, params)
    filters = [(k, v) for k, v in items if k in FILTER_NAMES]
    pages = max(1, -(-result["total"] // params.per_page))
    page_links = {n: _query(request, [*[(k, v) for k, v in items if k != "page"], ("page", str(n))])
                  for n in range(max(1, params.page - 3), min(pages, params.page + 3) + 1)}
    suggestion = result["suggestion"]
    return render(
        request, "search.html", params=params, result=result, items=items,
        facets=await _facets(request, items, result["facets"]),
        webinar_of=await kits.webinars_of_media(
            [h["id"] for h in result["hits"] if h["transcript_hits"]]),
        pages=pages, page_links=page_links,
        bundle_url=urls.bundle(filters),
        suggestion_url=_query(request, [(k, v) for k, v in items if k not in ("q", "page")]
                              + [("q", suggestion)]) if suggestion else None,
        sorts=svc.SORTS, other_params=[(k, v) for k, v in items
                                       if k not in ("q", "sort", "page")])
