"""GET /api/stats: download statistics for staff, as JSON or as a CSV export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kitlib.access.rules import require_staff
from kitlib.services import stats as svc
from kitlib.web.auth import resolve_principal
from kitlib.web.common import report_format


async def stats(request: Request) -> Response:
    require_staff(await resolve_principal(request))
    params = request.query_params
    form = report_format(request)
    result = await svc.stats(svc.parse(params))
    if form == "json":
        return JSONResponse(result)
    name = f"kitlib-downloads-by-{result['group']}.csv"
    return Response(svc.to_csv(result), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})
