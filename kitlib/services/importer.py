"""Bulk loading: ``kitlib import FOLDER`` and the demo library share this code."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from kitlib.errors import KitlibError
from kitlib.models import Kit, User
from kitlib.services import kits as kit_svc
from kitlib.services import resources as svc
from kitlib.services import uploads
from kitlib.storage import Storage

MANIFEST_NAMES = ("manifest.csv", "manifest.yaml", "manifest.yml", "manifest.json")


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    resource_ids: dict[str, int] = field(default_factory=dict)


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Metadata per file name from manifest.csv / .yaml / .json, if the folder has one."""
    for name in MANIFEST_NAMES:
        path = folder / name
        if not path.is_file():
            continue
        if name.endswith(".csv"):
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows: Iterable[dict[str, Any]] = list(csv.DictReader(handle))
        else:
            data = (json.loads(path.read_text(encoding="utf-8")) if name.endswith(".json")
                    else yaml.safe_load(path.read_text(encoding="utf-8")))
            rows = data.get("resources", []) if isinstance(data, dict) else data or []
        return {str(row["file"]): dict(row) for row in rows if isinstance(row, dict)
                and row.get("file")}
    return {}


def _metadata(path: Path, row: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in row.items() if k in svc.METADATA_FIELDS and v not in (None, "")}
    if isinstance(meta.get("published_at"), datetime):
        meta["published_at"] = meta["published_at"].isoformat()
    elif meta.get("published_at") is not None:
        meta["published_at"] = str(meta["published_at"])
    meta.setdefault("title", path.stem.replace("_", " ").replace("-", " ").strip().capitalize())
    return meta


async def import_file(path: Path, row: dict[str, Any], storage: Storage, max_size: int,
                      user: User | None, report: ImportReport) -> None:
    label = str(path)
    try:
        imported = await uploads.import_path(storage, path, uploads.clean_filename(path.name),
                                             _metadata(path, row), user, max_size=max_size)
    except KitlibError as exc:
        report.refused.append((label, exc.message))
        return
    (report.duplicates if imported.duplicate else report.added).append(label)
    if imported.resource_id is not None:
        report.resource_ids[path.name] = imported.resource_id


async def import_folder(folder: Path, storage: Storage, max_size: int, user: User | None,
                        progress: Callable[[Path], None] | None = None) -> ImportReport:
    """Import every regular file below ``folder`` (manifests and hidden files excepted)."""
    manifest = read_manifest(folder)
    report = ImportReport()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in MANIFEST_NAMES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for path in files:
        key = str(path.relative_to(folder))
        await import_file(path, manifest.get(key, manifest.get(path.name, {})), storage,
                          max_size, user, report)
        if progress is not None:
            progress(path)
    return report


DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"


async def load_demo(storage: Storage, max_size: int, demo_dir: Path = DEMO_DIR) -> ImportReport:
    """The sample library: documents, a kit and a webinar, from kitlib/demo/manifest.json."""
    data = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
    report = ImportReport()
    for row in data.get("resources", []):
        if row.get("file"):
            await import_file(demo_dir / row["file"], row, storage, max_size, None, report)
        elif row.get("url"):
            resource = await svc.create_resource(
                {k: v for k, v in row.items() if k in svc.METADATA_FIELDS}, [], None)
            report.added.append(row["url"])
            report.resource_ids[row["url"]] = resource.id
    for kit in data.get("kits", []):
        if await Kit.filter(slug=kit["slug"]).exists():
            continue
        items = [report.resource_ids[name] for name in kit.get("items", [])
                 if name in report.resource_ids]
        await kit_svc.create_kit({"slug": kit["slug"], "title": kit["title"],
                                  "description": kit.get("description", ""), "items": items}, None)
    for webinar in data.get("webinars", []):
        body: dict[str, Any] = {k: webinar[k] for k in ("title", "description", "starts_at",
                                                        "speakers", "kit") if k in webinar}
        for part in ("recording", "slides", "transcript"):
            if webinar.get(part) in report.resource_ids:
                body[part] = report.resource_ids[webinar[part]]
        await kit_svc.create_webinar(body, None)
    return report


