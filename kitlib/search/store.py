"""The search index on disk: open, version stamp, atomic rebuild and swap, writes.

The database is the source of truth; this index is a derived cache that can always be
rebuilt. Layout on disk: ``<path>/current`` is a symlink to ``<path>/build-*/`` (a Whoosh
index plus ``kitlib-index.json``). A rebuild fills a new build folder and swaps the link
atomically, so users keep the old index until the new one is whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as wi  # type: ignore[import-untyped,unused-ignore]

from kitlib.search.analysis import ANALYZER_VERSION
from kitlib.search.schema import (
    SCHEMA,
    SCHEMA_VERSION,
    IndexBusy,
    IndexCorrupt,
    IndexDoc,
    IndexOutdated,
    SearchIndexError,
    to_fields,
)

STAMP_FILE = "kitlib-index.json"
CURRENT = "current"
PARALLEL_BATCH = 250  # documents per job file handed to a sub-process of a parallel rebuild


# --------------------------------------------------------------------------- lifecycle


def expected_stamp() -> dict[str, int]:
    """The version stamp this code writes and accepts."""
    return {"schema": SCHEMA_VERSION, "analyzer": ANALYZER_VERSION}


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_stamp(folder: Path, docs: int) -> None:
    stamp = {**expected_stamp(), "docs": docs, "built_at": datetime.now().isoformat()}
    (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")


def _stamp_ok(stamp: dict[str, Any] | None) -> bool:
    return stamp is not None and all(stamp.get(k) == v for k, v in expected_stamp().items())


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    with (path / ".build.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusy(f"another build is running in {path}") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _new_build(path: Path) -> Path:
    build = path / f"build-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    return build


def _point_current(path: Path, build: Path) -> None:
    tmp = path / f".current-{uuid.uuid4().hex}"
    tmp.symlink_to(build.name)
    tmp.replace(path / CURRENT)  # rename(2): readers see the old or the new, never none
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_builds(path: Path) -> None:
    # Open searchers keep working: Whoosh segments are compound files opened (mmapped)
    # when the reader is created, and POSIX keeps unlinked open files readable.
    live = str((path / CURRENT).readlink())
    for p in path.glob("build-*"):
        if p.name != live:
            shutil.rmtree(p, ignore_errors=True)


def open_or_create(path: str | Path) -> Any:
    """Open the index at path, creating an empty one if nothing is there; never wipes."""
    return open_current(Path(path))[0]


def open_current(path: Path) -> tuple[Any, str]:
    """The index at path, bound to the build folder current names, and that folder's name."""
    current = path / CURRENT
    if not current.is_symlink():
        if path.exists() and any(not p.name.startswith((".", "build-")) for p in path.iterdir()):
            raise IndexCorrupt(f"{path} holds files but no '{CURRENT}' link; left untouched")
        path.mkdir(parents=True, exist_ok=True)
        with _build_lock(path):
            if not current.is_symlink():
                build = _new_build(path)
                wi.create_in(str(build), SCHEMA).close()
                _write_stamp(build, 0)
                _point_current(path, build)
                _remove_stale_builds(path)
    # Bind to the build folder, not the link: a Whoosh index read or written through the
    # link while a rebuild swaps it would mix the segments of two builds.
    name = str(current.readlink())
    build = path / name
    if not build.is_dir():
        raise IndexCorrupt(f"{current} points to a missing folder")
    if not _stamp_ok(_read_stamp(build)):
        raise IndexOutdated(f"{build} has no stamp or a stamp other than {expected_stamp()}")
    failure = ""
    # Whoosh leaks the TOC file handle when the TOC is unreadable; its ResourceWarning
    # fires when the exception is freed, inside this block, and says nothing new.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = wi.open_dir(str(build), schema=SCHEMA)
            with ix.reader() as reader:
                reader.doc_count()
        except Exception as exc:  # any failure to read means corrupt; the caller rebuilds
            failure = repr(exc)
        if failure:
            gc.collect()
    if failure:
        raise IndexCorrupt(f"cannot open the index in {build}: {failure}")
    return ix, name


def needs_rebuild(path: str | Path) -> bool:
    """True if the index is missing, unreadable or stamped by another version."""
    current = Path(path) / CURRENT
    if not current.is_dir() or not _stamp_ok(_read_stamp(current)):
        return True
    try:
        open_or_create(path).close()
    except SearchIndexError:
        return True
    return False


@contextlib.contextmanager
def writer(ix: Any, *, limitmb: int = 64, timeout: float = 10.0) -> Iterator[Any]:
    """A Whoosh writer that commits on success and cancels and re-raises on error."""
    try:
        w = ix.writer(limitmb=limitmb, timeout=timeout)
    except wi.LockError as exc:
        raise IndexBusy("the index is locked by another writer") from exc
    try:
        yield w
    except BaseException:
        w.cancel()
        raise
    w.commit()


def apply(ix: Any, upserts: Iterable[IndexDoc], deletes: Iterable[int] = ()) -> None:
    """Delete and upsert documents in a single commit."""
    with writer(ix) as w:
        for doc_id in deletes:
            w.delete_by_term("id", str(doc_id))
        for doc in upserts:
            w.update_document(**to_fields(doc))


def rebuild(path: str | Path, docs: Iterable[IndexDoc], *, procs: int = 1,
            limitmb: int = 128, before_swap: Callable[[], object] | None = None) -> int:
    """Build a fresh index beside the live one, then swap it in atomically; returns the count.

    One writer takes every document: Whoosh bounds its memory by spilling sorted runs to
    disk (``limitmb``) and merges them once at commit. Committing a segment per batch and
    merging them at the end spent as long merging as indexing (bench/search.py). With
    ``procs > 1`` each process writes its own segment and the segments are kept apart rather
    than merged again, which nearly halves the time on two cores. ``before_swap`` runs once
    the new index is complete, just before it replaces the live one.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with _build_lock(path):
        build = _new_build(path)
        count = 0
        try:
            ix = wi.create_in(str(build), SCHEMA)
            if procs > 1:
                # The memory budget is shared: each process spills its runs sooner.
                w = ix.writer(limitmb=max(16, limitmb // procs), procs=procs,
                              multisegment=True, batchsize=PARALLEL_BATCH)
            else:
                w = ix.writer(limitmb=limitmb)
            try:
                for doc in docs:
                    w.add_document(**to_fields(doc))
                    count += 1
            except BaseException:
                w.cancel()
                raise
            w.commit()
            # Whoosh's parallel writer drops a sub-process's segment without a word if the
            # process died; an index that lost documents must never be swapped in.
            if ix.doc_count() != count:
                raise IndexCorrupt(f"the new index holds {ix.doc_count()} of {count} documents")
            ix.close()
            _write_stamp(build, count)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        if before_swap is not None:
            before_swap()
        _point_current(path, build)
        _remove_stale_builds(path)
    return count


def all_ids(ix: Any) -> dict[int, str]:
    """Every indexed id with its stored fingerprint, to diff against the database."""
    with ix.reader() as reader:
        if not reader.doc_count():
            return {}
        ids = reader.column_reader("id")
        prints = reader.column_reader("fingerprint")
        return {int(ids[d]): str(prints[d]) for d in reader.all_doc_ids()}


