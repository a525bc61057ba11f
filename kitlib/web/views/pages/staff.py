"""The staff area: upload, metadata editing with extraction status, and the dashboard.

JavaScript posts each file to /api/resources with progress; the form without JavaScript posts
here and is answered with a redirect. Both read the form with ``web.upload_form``, so a page
upload and an API upload are checked, stored and refused the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kitlib.access.rules import Principal, require_staff
from kitlib.errors import KitlibError
from kitlib.models import Kind, Language, Resource, Visibility
from kitlib.services import overview
from kitlib.services import resources as svc
from kitlib.services import stats as stats_svc
from kitlib.web import charts
from kitlib.web.auth import resolve_principal
from kitlib.web.common import path_int, settings_of
from kitlib.web.render import read_form, render
from kitlib.web.upload_form import create_from_form

EDIT_FIELDS = ("title", "summary", "language", "tags", "kind", "visibility", "published_at")
DASHBOARD_DAYS = 30


async def _staff_page(request: Request) -> Principal | Response:
    """The staff caller, or the answer for someone else: sign in first, or 403."""
    principal = await resolve_principal(request)
    if principal.user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = request.app.url_path_for("login")
        return RedirectResponse(f"{login}?next={quote(target)}", status_code=303)
    require_staff(principal)
    return principal


def _choices() -> dict[str, Any]:
    return {"kinds": [k.value for k in Kind if k != Kind.LINK],
            "languages": [lang.value for lang in Language],
            "visibilities": [v.value for v in Visibility]}


async def upload_page(request: Request) -> Response:
    principal = await _staff_page(request)
    if isinstance(principal, Response):
        return principal
    return render(request, "staff/upload.html", max_size=settings_of(request).max_upload_size,
                  **_choices())


async def upload(request: Request) -> Response:
    """The form without JavaScript: stored as the API stores it, then the new page."""
    _, created = await create_from_form(request)
    page = request.app.url_path_for("staff_resource", resource_id=created.resource.id)
    return RedirectResponse(f"{page}?created=1", status_code=303)


async def _editable(request: Request, principal: Principal) -> Resource:
    return await svc.get_visible(principal, path_int(request, "resource_id"))


async def edit_page(request: Request) -> Response:
    principal = await _staff_page(request)
    if isinstance(principal, Response):
        return principal
    resource = await _editable(request, principal)
    data = (await svc.to_json([resource], staff=True))[0]
    return render(request, "staff/edit.html", resource=data, values=_form_values(data),
                  created=request.query_params.get("created") == "1", **_choices())


def _form_values(data: dict[str, Any]) -> dict[str, str]:
    values = {name: data.get(name) or "" for name in EDIT_FIELDS}
    values["tags"] = ", ".join(data["tags"])
    values["published_at"] = (data["published_at"] or "")[:10]
    return values


async def edit(request: Request) -> Response:
    form = await read_form(request)
    principal = await resolve_principal(request)
    require_staff(principal)
    resource = await _editable(request, principal)
    changes: dict[str, Any] = {name: form[name] for name in EDIT_FIELDS if name in form}
    if changes.get("published_at") == "":
        changes["published_at"] = None
    try:
        await svc.update_resource(resource, changes, principal.user)
    except KitlibError as exc:
        data = (await svc.to_json([resource], staff=True))[0]
        return render(request, "staff/edit.html", status_code=exc.status, resource=data,
                      values={**_form_values(data), **form}, error=exc.message, created=False,
                      **_choices())
    page = request.app.url_path_for("staff_resource", resource_id=resource.id)
    return RedirectResponse(f"{page}?saved=1", status_code=303)


async def dashboard(request: Request) -> Response:
    principal = await _staff_page(request)
    if isinstance(principal, Response):
        return principal
    end = datetime.now(UTC).date()
    start = end - timedelta(days=DASHBOARD_DAYS - 1)
    by_day = await stats_svc.stats(stats_svc.StatsQuery("day", start, end))
    by_resource = await stats_svc.stats(stats_svc.StatsQuery("resource", start, end))
    top = [(str(r["label"]), int(r["downloads"])) for r in by_resource["rows"][:10]]
    queue = await overview.staff_queue(principal)
    return render(request, "staff/dashboard.html", start=start, end=end,
                  daily=charts.columns(charts.daily(by_day["rows"], start, end)),
                  top=charts.rows(top), totals=by_day["total"], waiting=queue.waiting,
                  recent=queue.recent)
