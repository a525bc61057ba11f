"""Download statistics for staff: downloads and bytes per resource, kit, webinar, member
organisation or day, over a date range; as JSON or as a CSV export.

A *download* is a request that delivered a whole file; range requests (a player seeking,
a resumed transfer) add their bytes to "bytes served" but are not counted as downloads.
The counts are one GROUP BY in the database (hand-written SQL: Tortoise cannot group by a
date, and the same statement runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise import connections

from kitlib.errors import InvalidField
from kitlib.services import validation as v

GROUPS = ("resource", "kit", "webinar", "organisation", "day")
ANONYMOUS = "(anonymous)"
NO_ORGANISATION = "(no organisation)"

_COUNTS = ("SUM(CASE WHEN e.complete THEN 1 ELSE 0 END) AS downloads, "
           "COALESCE(SUM(e.bytes), 0) AS bytes")
_SQL = {
    "resource": (f"SELECT e.resource_id AS key, r.title AS label, {_COUNTS} "
                 "FROM download_event e JOIN resource r ON r.id = e.resource_id "
                 "WHERE {where} GROUP BY e.resource_id, r.title"),
    "kit": (f"SELECT k.slug AS key, k.title AS label, {_COUNTS} "
            "FROM download_event e JOIN kit_item ki ON ki.resource_id = e.resource_id "
            "JOIN kit k ON k.id = ki.kit_id WHERE {where} GROUP BY k.slug, k.title"),
    "webinar": (f"SELECT w.id AS key, w.title AS label, {_COUNTS} "
                "FROM download_event e JOIN webinar w ON e.resource_id IN "
                "(w.recording_id, w.slides_id, w.transcript_id) "
                "WHERE {where} GROUP BY w.id, w.title"),
    "organisation": (
        "SELECT CASE WHEN u.id IS NULL THEN '" + ANONYMOUS + "' "
        "WHEN COALESCE(u.organisation, '') = '' THEN '" + NO_ORGANISATION + "' "
        "ELSE u.organisation END AS key, "
        f"{_COUNTS} FROM download_event e LEFT JOIN \"user\" u ON u.id = e.user_id "
        "WHERE {where} GROUP BY 1"),
    "day": f"SELECT {{day}} AS key, {_COUNTS} FROM download_event e WHERE {{where}} GROUP BY 1",
}
_DAY = {"sqlite": "date(e.at)", "postgres": "date(e.at AT TIME ZONE 'UTC')"}


@dataclass(frozen=True)
class StatsQuery:
    group: str = "resource"
    start: date | None = None
    end: date | None = None  # inclusive



def parse(params: Any) -> StatsQuery:
    """The query of /api/stats; a bad parameter raises InvalidField naming it."""
    group = params.get("group") or "resource"
    if group not in GROUPS:
        raise InvalidField("group", f"{group[:40]!r} is not one of {', '.join(GROUPS)}")
    start, end = v.day("from", params.get("from")), v.day("to", params.get("to"))
    if start and end and start > end:
        raise InvalidField("from", "must not be after 'to'")
    return StatsQuery(group, start, end)


async def stats(query: StatsQuery) -> dict[str, Any]:
    """Rows of {key, label, downloads, bytes}, most downloaded first, and their totals."""
    connection = connections.get("default")
    dialect = connection.capabilities.dialect
    conditions: list[str] = []
    values: list[Any] = []
    for op, day in ((">=", query.start), ("<", query.end + timedelta(days=1)
                                               if query.end else None)):
        if day is not None:
            values.append(datetime.combine(day, time(), tzinfo=UTC))
            placeholder = f"${len(values)}" if dialect == "postgres" else "?"
            conditions.append(f"e.at {op} {placeholder}")
    where = " AND ".join(conditions) or "1 = 1"
    sql = _SQL[query.group].format(where=where, day=_DAY.get(dialect, "date(e.at)"))
    rows = await connection.execute_query_dict(sql, values)
    out: list[dict[str, Any]] = []
    for row in rows:
        key = row["key"]
        key = key.isoformat() if isinstance(key, date) else key
        label = row.get("label", key)
        out.append({"key": key, "label": "" if label is None else str(label),
                    "downloads": int(row["downloads"] or 0), "bytes": int(row["bytes"] or 0)})
    if query.group == "day":
        out.sort(key=lambda r: str(r["key"]))
    else:
        out.sort(key=lambda r: (-int(r["downloads"]), -int(r["bytes"]), str(r["label"])))
    return {
        "group": query.group,
        "from": query.start.isoformat() if query.start else None,
        "to": query.end.isoformat() if query.end else None,
        "rows": out,
        "total": {"downloads": sum(r["downloads"] for r in out),
                  "bytes": sum(r["bytes"] for r in out)},
    }


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    # A spreadsheet runs a cell that starts with = + - @ (or a tab or CR) as a formula: a title
    # such as "=HYPERLINK(…)" must arrive as text (OWASP "CSV injection").
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(result: dict[str, Any]) -> str:
    """The rows as CSV (UTF-8 with a BOM, so spreadsheet tools read the accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([result["group"], "label", "downloads", "bytes"])
    for row in result["rows"]:
        writer.writerow([csv_cell(row["key"]), csv_cell(row["label"]), row["downloads"],
                         row["bytes"]])
    return "\ufeff" + buffer.getvalue()
