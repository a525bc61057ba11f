"""A webinar's attendees: the registration list import, their links, and what they fetched.

Registration lists come out of spreadsheet tools and event platforms: comma or semicolon
separated, with or without a header row, in UTF-8 (with or without a BOM), UTF-16 or
Windows-1252. The import reads all of those, takes what it can and reports every line it
had to reject, with the reason; it never half-applies (one transaction).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from kitlib.access import links
from kitlib.errors import BadRequest, Forbidden, InvalidField, NotFound
from kitlib.models import (
    WEBINAR_PARTS,
    Attendee,
    AttendeeDownload,
    DownloadEvent,
    Resource,
    ResourceFile,
    User,
    Webinar,
)
from kitlib.services.resources import audit
from kitlib.services.stats import csv_cell
from kitlib.services.validation import digits
from kitlib.urls import Links

MAX_ROWS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"'.]{2,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Header names as they appear in French and English exports, accents and case folded.
_COLUMNS = {
    "name": {"name", "nom complet", "full name", "participant", "attendee", "nom et prenom",
             "prenom nom", "nom prenom", "display name"},
    "first": {"first name", "firstname", "prenom", "given name"},
    "last": {"last name", "lastname", "surname", "nom", "nom de famille", "family name"},
    "email": {"email", "e-mail", "mail", "courriel", "email address", "adresse e-mail",
              "adresse email", "adresse mail", "e-mail address"},
    "organisation": {"organisation", "organization", "organisme", "societe", "entreprise",
                     "company", "structure", "etablissement", "institution", "affiliation"},
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c))
                    .replace("_", " ").split())


def decode(data: bytes) -> str:
    """The text of an export, whatever spreadsheet tool wrote it."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise BadRequest(f"The file starts with a {encoding} byte-order mark but is "
                                 f"not valid {encoding}.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's "CSV" on a French Windows: cp1252. Its five undefined bytes cannot appear
        # in such an export; a file that holds them is read as latin-1 rather than refused.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        first = sample.split("\n", 1)[0]
        delimiter = max(",;\t", key=first.count)
        return type("Guessed", (csv.excel,), {"delimiter": delimiter})


def _header(row: list[str]) -> dict[str, int] | None:
    """Column positions if ``row`` is a header row, else None."""
    found: dict[str, int] = {}
    for position, cell in enumerate(row):
        folded = _fold(cell)
        for column, names in _COLUMNS.items():
            if folded in names and column not in found:
                found[column] = position
    return found if "email" in found else None


def _clean(text: str, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())[:limit]


def parse(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[dict[str, Any]]]:
    """Rows (line number, name/email/organisation) and rejected lines of a registration list."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidField("file", f"is over {MAX_IMPORT_BYTES // (1024 * 1024)} MiB")
    text = decode(data)
    if "\x00" in text:
        raise InvalidField("file", "is not a text (CSV) file")
    if not text.strip():
        raise InvalidField("file", "is empty: send a CSV with name, email and organisation")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    columns: dict[str, int] = {"name": 0, "email": 1, "organisation": 2}
    rows: list[tuple[int, dict[str, str]]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        for index, cells in enumerate(reader):
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if index == 0 and (header := _header(cells)) is not None:
                columns = header
                continue
            if len(rows) >= MAX_ROWS:
                raise InvalidField("file", f"has more than {MAX_ROWS} attendees")

            values = {name: cells[at] if at < len(cells) else "" for name, at in columns.items()}
            email = _clean(values.get("email", ""), 254).lower()
            name = _clean(values.get("name", ""), 200) or _clean(
                f"{values.get('first', '')} {values.get('last', '')}", 200)
            text_of_line = _clean(";".join(cells), 200)
            if not email:
                rejected.append({"line": line, "reason": "no email address", "text": text_of_line})
            elif not _EMAIL.match(email):
                rejected.append({"line": line, "reason": f"{email[:80]!r} is not an email address",
                                 "text": text_of_line})
            elif email in seen:
                rejected.append({"line": line, "reason": f"same email as line {seen[email]}",
                                 "text": text_of_line})
            else:
                seen[email] = line
                rows.append((line, {"name": name, "email": email,
                                    "organisation": _clean(values.get("organisation", ""), 200)}))
    except csv.Error as exc:
        raise InvalidField("file", f"is not readable CSV near line {reader.line_num}: {exc}") \
            from None
    return rows, rejected


def _limit(value: Any, name: str = "download_limit") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not digits(str(value)) or not 1 <= int(value) <= 100_000:
        raise InvalidField(name, "must be a whole number from 1 to 100000 (or empty: no limit)")
    return int(value)


def _days(value: Any) -> int:
    if isinstance(value, bool) or not digits(str(value)) or not 1 <= int(value) <= 3650:
        raise InvalidField("valid_days", "must be a whole number of days from 1 to 3650")
    return int(value)


async def import_list(webinar: Webinar, data: bytes, options: Mapping[str, Any],
                      default_days: int, user: User | None) -> ImportReport:
    """Add (or refresh) the attendees of a registration list, in one transaction."""
    days = _days(options.get("valid_days") or default_days)
    limit = _limit(options.get("download_limit"))
    rows, rejected = parse(data)
    report = ImportReport(rejected=rejected)
    expires = datetime.now(UTC) + timedelta(days=days)
    async with in_transaction():
        existing = {a.email: a for a in await Attendee.filter(webinar_id=webinar.id)}
        for _line, row in rows:
            attendee = existing.get(row["email"])
            if attendee is None:
                await Attendee.create(webinar_id=webinar.id, expires_at=expires,
                                      download_limit=limit, name=row["name"],
                                      email=row["email"], organisation=row["organisation"])
                report.created += 1
            else:
                # A list imported again refreshes names; links already sent keep working.
                attendee.name = row["name"] or attendee.name
                attendee.organisation = row["organisation"] or attendee.organisation
                await attendee.save(update_fields=["name", "organisation"])
                report.updated += 1
        await audit(user, "webinar.attendees.import", "webinar", webinar.id,
                    created=report.created, updated=report.updated,
                    rejected=len(report.rejected))
    return report


def attendee_json(attendee: Attendee, secret: str, site: Links) -> dict[str, Any]:
    token = links.attendee_token(secret, attendee)

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": attendee.id, "webinar": attendee.webinar_id, "name": attendee.name,
        "email": attendee.email, "organisation": attendee.organisation,
        "expires_at": iso(attendee.expires_at), "revoked_at": iso(attendee.revoked_at),
        "download_limit": attendee.download_limit, "downloads_used": attendee.downloads_used,
        "first_used_at": iso(attendee.first_used_at), "last_used_at": iso(attendee.last_used_at),
        "link": site.attend(token),
    }


@dataclass(frozen=True)
class Part:
    """A part of the webinar an attendee's page shows: its name, title and files."""

    part: str
    title: str
    files: list[ResourceFile]  # with their stored file fetched


async def of_webinar(webinar: Webinar) -> list[Attendee]:
    return list(await Attendee.filter(webinar_id=webinar.id).order_by("name", "email", "id"))


async def find(attendee_id: int) -> Attendee | None:
    return await Attendee.get_or_none(id=attendee_id)


async def landing(attendee: Attendee) -> tuple[Webinar, list[Part]]:
    """The attendee's webinar and its parts that exist, in the order of the webinar page."""
    webinar = await Webinar.get(id=attendee.webinar_id)
    parts: list[Part] = []
    for part in WEBINAR_PARTS:
        rid = getattr(webinar, f"{part}_id")
        resource = await Resource.get_or_none(id=rid) if rid else None
        if resource is None:
            continue
        files = await ResourceFile.filter(resource_id=resource.id).select_related("file")
        parts.append(Part(part, resource.title, list(files)))
    return webinar, parts


async def get_attendee(webinar: Webinar, attendee_id: int) -> Attendee:
    attendee = await Attendee.get_or_none(id=attendee_id, webinar_id=webinar.id)
    if attendee is None:
        raise NotFound("No such attendee for this webinar.")
    return attendee


async def update(attendee: Attendee, body: Any, user: User | None) -> None:
    """Revoke or restore a link, change its limit or validity, or issue a new one."""
    if not isinstance(body, dict) or not body:
        raise InvalidField("body", "send a JSON object with revoked, download_limit, "
                           "valid_days or new_link")
    unknown = sorted(set(body) - {"revoked", "download_limit", "valid_days", "new_link"})
    if unknown:
        raise InvalidField(unknown[0], "is not a field of an attendee link")
    changed: list[str] = []
    if "revoked" in body:
        if not isinstance(body["revoked"], bool):
            raise InvalidField("revoked", "must be true or false")
        attendee.revoked_at = datetime.now(UTC) if body["revoked"] else None
        changed.append("revoked_at")
    if "download_limit" in body:
        attendee.download_limit = _limit(body["download_limit"])
        changed.append("download_limit")
    if "valid_days" in body:
        attendee.expires_at = datetime.now(UTC) + timedelta(days=_days(body["valid_days"]))
        changed.append("expires_at")
    if body.get("new_link") is True:
        attendee.link_version += 1  # every copy of the previous link stops working
        changed.append("link_version")
    elif "new_link" in body and body["new_link"] is not False:
        raise InvalidField("new_link", "must be true or false")
    if changed:
        async with in_transaction():
            await attendee.save(update_fields=changed)
            await audit(user, "webinar.attendee.update", "attendee", attendee.id,
                        fields=changed, webinar=attendee.webinar_id)


class _WindowOpen(Exception):
    """Raised inside the counting transaction to undo it: the download is free after all."""


@dataclass(frozen=True)
class Fetched:
    """What an attendee fetches, as their download limit counts it."""

    key: str  # file_key() or bundle_key()
    label: str  # the file's or the bundle's name
    resource_id: int | None = None


def file_key(file_id: int) -> str:
    return f"file:{file_id}"


def bundle_key(etag: str) -> str:
    return f"bundle:{etag.strip(chr(34))[:64]}"


async def take_download(attendee_id: int, fetched: Fetched, window_seconds: int) -> bool:
    """Let the attendee fetch this file or bundle: free inside an open window, else one
    download counted (and a window opened), or Forbidden once the limit is used up.

    True when this request counted one. Whatever the range: ``bytes=0-0`` then ``bytes=1-``
    is one download, not zero and not two. Parallel requests cannot both take the last
    download, nor both count one for the same window: the counter's UPDATE locks the
    attendee's row (PostgreSQL) or the database (SQLite) until the window is written, and
    the window is looked for again under that lock.
    """
    now = datetime.now(UTC)
    open_window = AttendeeDownload.filter(attendee_id=attendee_id, key=fetched.key,
                                          expires_at__gt=now)
    if await open_window.exists():
        return False
    within = Q(download_limit=None) | Q(downloads_used__lt=F("download_limit"))
    try:
        async with in_transaction():
            taken = await Attendee.filter(Q(id=attendee_id), within).update(
                downloads_used=F("downloads_used") + 1)
            if await open_window.exists():
                raise _WindowOpen  # another request opened it meanwhile: undo the count
            if taken:
                await AttendeeDownload.create(
                    attendee_id=attendee_id, key=fetched.key, label=fetched.label[:255],
                    resource_id=fetched.resource_id, at=now,
                    expires_at=now + timedelta(seconds=window_seconds))
    except _WindowOpen:
        return False
    if not taken:
        attendee = await Attendee.get_or_none(id=attendee_id)
        limit = attendee.download_limit if attendee else 0
        raise Forbidden(f"This link's download limit ({limit}) is used up; ask the organisers "
                        "to raise it.")
    return True


async def usage(webinar: Webinar) -> list[dict[str, Any]]:
    """Per attendee, their link's use: the downloads it counted (as many as
    ``downloads_used``) and every request that fetched bytes, oldest first."""
    attendees = await Attendee.filter(webinar_id=webinar.id).order_by("name", "email", "id")
    ids = [a.id for a in attendees]
    events = await DownloadEvent.filter(attendee_id__in=ids).order_by("at", "id")
    counted = await AttendeeDownload.filter(attendee_id__in=ids).order_by("at", "id")
    resource_ids = {e.resource_id for e in events if e.resource_id}  # type: ignore[attr-defined]
    titles = {r.id: r.title for r in await Resource.filter(id__in=list(resource_ids))}
    names = {(f.resource_id, f.file_id): f.filename  # type: ignore[attr-defined]
             for f in await ResourceFile.filter(resource_id__in=list(resource_ids))}
    by_attendee: dict[int, list[dict[str, Any]]] = {a.id: [] for a in attendees}
    for event in events:
        rid, fid = event.resource_id, event.file_id  # type: ignore[attr-defined]
        by_attendee[event.attendee_id].append({  # type: ignore[attr-defined]
            "at": event.at.isoformat(), "resource": rid, "title": titles.get(rid, ""),
            "filename": names.get((rid, fid), "") or event.bundle, "bundle": event.bundle,
            "bytes": event.bytes, "complete": event.complete})
    downloads: dict[int, list[dict[str, Any]]] = {a.id: [] for a in attendees}
    for row in counted:
        downloads[row.attendee_id].append({
            "at": row.at.isoformat(), "name": row.label, "resource": row.resource_id,  # type: ignore[attr-defined]
            "free_until": row.expires_at.isoformat()})
    return [{"id": a.id, "name": a.name, "email": a.email, "organisation": a.organisation,
             "first_used_at": a.first_used_at.isoformat() if a.first_used_at else None,
             "last_used_at": a.last_used_at.isoformat() if a.last_used_at else None,
             "downloads_used": a.downloads_used, "download_limit": a.download_limit,
             "revoked": a.revoked_at is not None, "downloads": downloads[a.id],
             "fetched": by_attendee[a.id]} for a in attendees]


def usage_csv(rows: list[dict[str, Any]]) -> str:
    """One line per file fetched, and one for each attendee who fetched nothing."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["name", "email", "organisation", "link first used", "link last used",
                     "fetched at", "resource", "file", "bytes", "complete"])
    for row in rows:
        who = [csv_cell(row["name"]), csv_cell(row["email"]), csv_cell(row["organisation"]),
               row["first_used_at"] or "", row["last_used_at"] or ""]
        for item in row["fetched"] or [None]:
            what = ["", "", "", "", ""] if item is None else [
                item["at"], csv_cell(item["title"]), csv_cell(item["filename"]), item["bytes"],
                "yes" if item["complete"] else "no"]
            writer.writerow(who + what)
    return "\ufeff" + buffer.getvalue()
