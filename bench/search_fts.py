"""The reference of bench.search: the same documents and queries in SQLite FTS5 (stdlib
``sqlite3``), with bm25 ranking, highlights, snippets and facet counts, as kitlib answers."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.search_corpus import make_docs
from bench.search_measure import MEMBER_VISIBILITIES, Timer, dir_size, peak_rss_mib


def fts_index(db: str, n: int) -> dict[str, Any]:
    """Child: the same documents into SQLite FTS5, one transaction, then optimize."""
    base = peak_rss_mib()
    t0 = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.executescript(
        """
        PRAGMA journal_mode=WAL;
        CREATE TABLE meta(id INTEGER PRIMARY KEY, kind TEXT, language TEXT, year INTEGER,
                          visibility TEXT, published TEXT, downloads INTEGER);
        CREATE TABLE doc_tag(doc_id INTEGER, tag TEXT);
        CREATE TABLE doc_kit(doc_id INTEGER, kit INTEGER);
        CREATE VIRTUAL TABLE fts USING fts5(
            title, summary, body, tags, tokenize='porter unicode61 remove_diacritics 2');
        """
    )
    con.execute("BEGIN")
    count = 0
    for d in make_docs(n):
        year = d.published.year if d.published else None
        con.execute(
            "INSERT INTO meta VALUES (?,?,?,?,?,?,?)",
            (d.id, d.kind, d.language, year, d.visibility, str(d.published), d.download_count),
        )
        con.execute(
            "INSERT INTO fts(rowid, title, summary, body, tags) VALUES (?,?,?,?,?)",
            (d.id, d.title, d.summary, d.body, " ".join(d.tags)),
        )
        con.executemany("INSERT INTO doc_tag VALUES (?,?)", [(d.id, t) for t in d.tags])
        con.executemany("INSERT INTO doc_kit VALUES (?,?)", [(d.id, k) for k in d.kits])
        count += 1
    con.execute("CREATE INDEX doc_tag_doc ON doc_tag(doc_id)")
    con.execute("CREATE INDEX doc_kit_doc ON doc_kit(doc_id)")
    con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    took = time.perf_counter() - t0
    return {"count": count, "seconds": took, "rss": peak_rss_mib(), "rss_start": base,
            "size": dir_size(Path(db))}


def fts_query(text: str) -> str:
    """FTS5 MATCH expression: every word required (quoted, so never FTS5 syntax)."""
    return " ".join('"' + w.replace('"', "") + '"' for w in text.split())


def fts_search(db: str, queries: list[dict[str, Any]], deadline: float) -> dict[str, Any]:
    """Child: bm25 ranking, highlight/snippet of the 10 shown, facets by GROUP BY."""
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("CREATE TEMP TABLE hits(id INTEGER PRIMARY KEY, score REAL)")
    open_ms = (time.perf_counter() - t0) * 1000
    vis = ",".join("?" * len(MEMBER_VISIBILITIES))

    def one(q: dict[str, Any]) -> int:
        extra, args = "", []
        if "kind" in q:
            extra, args = " AND m.kind = ?", [q["kind"]]
        elif "year" in q:
            extra, args = " AND m.year = ?", [q["year"]]
        con.execute("DELETE FROM hits")
        words = q["text"].split()
        # Like kitlib: all words required; if nothing matches, any of them.
        for expr in (fts_query(q["text"]), " OR ".join(fts_query(w) for w in words)):
            con.execute(
                "INSERT INTO hits SELECT fts.rowid, bm25(fts) FROM fts JOIN meta m"
                f" ON m.id = fts.rowid WHERE fts MATCH ? AND m.visibility IN ({vis}){extra}",
                [expr, *MEMBER_VISIBILITIES, *args],
            )
            total = con.execute("SELECT count(*) FROM hits").fetchone()[0]
            if total or len(words) == 1:
                break
        top = [r[0] for r in con.execute("SELECT id FROM hits ORDER BY score LIMIT 10")]
        shown = []
        if top:
            shown = con.execute(
                "SELECT rowid, highlight(fts, 0, '<mark>', '</mark>'),"
                " snippet(fts, -1, '<mark>', '</mark>', '…', 40) FROM fts"
                f" WHERE fts MATCH ? AND rowid IN ({','.join('?' * len(top))})",
                [expr, *top],
            ).fetchall()
        facets = {
            name: con.execute(sql).fetchall()
            for name, sql in (
                ("kind", "SELECT kind, count(*) c FROM hits JOIN meta m ON m.id = hits.id"
                         " GROUP BY kind ORDER BY c DESC LIMIT 50"),
                ("language", "SELECT language, count(*) c FROM hits JOIN meta m"
                             " ON m.id = hits.id GROUP BY language ORDER BY c DESC LIMIT 50"),
                ("year", "SELECT year, count(*) c FROM hits JOIN meta m ON m.id = hits.id"
                         " GROUP BY year ORDER BY c DESC LIMIT 50"),
                ("tag", "SELECT tag, count(*) c FROM hits JOIN doc_tag t ON t.doc_id = hits.id"
                        " GROUP BY tag ORDER BY c DESC LIMIT 50"),
                ("kit", "SELECT kit, count(*) c FROM hits JOIN doc_kit k ON k.doc_id = hits.id"
                        " GROUP BY kit ORDER BY c DESC LIMIT 50"),
            )
        }
        assert len(shown) == len(top) and len(facets) == 5
        return int(total)

    out = Timer(deadline).run(queries, one)
    con.close()
    out.update(open_ms=open_ms, rss=peak_rss_mib())
    return out
