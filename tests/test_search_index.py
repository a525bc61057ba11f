"""Behaviour of the Whoosh search index: analysis, query language, access, lifecycle."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kitlib import search as si
from kitlib.search import Access, Filters, IndexDoc
from kitlib.search.analysis import ANALYZERS, analyze
from kitlib.search.postings import docnums

PUBLIC = Access(visibilities=frozenset({"public"}))
MEMBERS = Access(visibilities=frozenset({"public", "members"}))

DOCS = [
    IndexDoc(
        1,
        "Sécurité incendie en entreprise",
        language="fr",
        summary="Les règles de sécurité pour l'entreprise",
        body="La désinfection des locaux et la prévention des risques <script>.",
        tags=("Cybersécurité", "Incendie"),
        kits=(10,),
        published=date(2023, 5, 1),
        download_count=5,
        fingerprint="v1",
    ),
    IndexDoc(
        2,
        "Fire safety webinar",
        language="en",
        kind="webinar",
        body="How to keep workers safe on the factory floor.",
        cues=(
            (12.5, "Welcome everyone."),
            (754.0, "Now the fire drills."),
            (801.0, "Safety first."),
        ),
        speakers=("Jean Dupont",),
        organisation="Pôle Métal",
        webinar_id=7,
        kits=(10, 11),
        published=date(2024, 2, 1),
        download_count=50,
        tags=("Incendie",),
    ),
    IndexDoc(
        3,
        "Désinfectants pour l'industrie agroalimentaire",
        language="fr",
        body="Choisir un désinfectant adapté aux surfaces en inox.",
        visibility="members",
        tags=("Hygiène",),
        published=date(2022, 1, 10),
        download_count=20,
    ),
    IndexDoc(
        4,
        "Confidential merger plan zanzibar",
        language="en",
        body="Secret plan about the zanzibar acquisition and fire safety.",
        visibility="private",
        tags=("Secret",),
        kits=(99,),
        published=date(2021, 3, 3),
    ),
    IndexDoc(
        5,
        "Safety drills for warehouses",
        language="en",
        body="Fire exits, drills and safety equipment in warehouses.",
        published=date(2020, 6, 6),
        tags=("Incendie",),
    ),
]


@pytest.fixture(scope="module")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ix") / "index"
    assert si.rebuild(path, DOCS) == len(DOCS)
    return path


@pytest.fixture(scope="module")
def searcher(index_path: Path) -> Iterator[si.Searcher]:
    s = si.Searcher(index_path)
    yield s
    s.close()


def ids(result: si.SearchResult) -> list[int]:
    return [h.id for h in result.hits]


# --------------------------------------------------------------------------- analysis


def test_french_stems_fold_accents_before_stemming() -> None:
    fr = ANALYZERS["fr"]
    assert analyze("sécurité", fr) == analyze("securite", fr) == analyze("Sécurités", fr)
    forms = ["désinfection", "désinfectant", "désinfecter", "désinfectée", "desinfectes"]
    assert len({tuple(analyze(w, fr)) for w in forms}) == 1
    assert analyze("entreprises", fr) == analyze("entreprise", fr)


def test_french_elisions_and_stop_words() -> None:
    fr = ANALYZERS["fr"]
    assert analyze("l'entreprise", fr) == analyze("entreprise", fr)
    assert analyze("d’activité", fr) == analyze("activite", fr)
    assert analyze("le la les de des du et", fr) == []


def test_english_plurals_and_stop_words() -> None:
    en = ANALYZERS["en"]
    assert analyze("The children's securities", en) == analyze("children security", en) != []
    assert analyze("running", en) == analyze("runs", en)
    assert analyze("the of and", en) == []


# --------------------------------------------------------------------------- queries


def test_unaccented_query_finds_accented_french_text(searcher: si.Searcher) -> None:
    assert ids(searcher.search("securite", access=PUBLIC)) == [1]
    assert set(ids(searcher.search("desinfectant", access=MEMBERS))) == {1, 3}


def test_words_are_anded_when_short(searcher: si.Searcher) -> None:
    result = searcher.search("warehouses drills", access=PUBLIC)
    assert ids(result) == [5]


def test_and_falls_back_to_or_when_nothing_matches_all(searcher: si.Searcher) -> None:
    result = searcher.search("warehouses désinfection", access=PUBLIC)
    assert set(ids(result)) == {1, 5}


def test_phrase_requires_adjacent_words(searcher: si.Searcher) -> None:
    assert set(ids(searcher.search('"fire safety"', access=PUBLIC))) == {2}
    assert set(ids(searcher.search("fire safety", access=PUBLIC))) == {2, 5}


def test_exclusion(searcher: si.Searcher) -> None:
    assert ids(searcher.search("safety -warehouses", access=PUBLIC)) == [2]
    assert ids(searcher.search("safety NOT warehouses", access=PUBLIC)) == [2]


def test_explicit_or(searcher: si.Searcher) -> None:
    result = searcher.search("warehouses OR entreprise", access=PUBLIC)
    assert set(ids(result)) == {1, 5}


def test_prefix(searcher: si.Searcher) -> None:
    assert set(ids(searcher.search("désinf*", access=MEMBERS))) == {1, 3}
    assert set(ids(searcher.search("securite*", access=PUBLIC))) == {1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("title:safety", {2, 5}),
        ("tag:incendie", {1, 2, 5}),
        ("tag:cybersecurite", {1}),
        ("kind:webinar", {2}),
        ("language:fr", {1}),
        ("speaker:dupont", {2}),
        ("org:metal", {2}),
        ("year:2024", {2}),
        ("kit:11", {2}),
    ],
)
def test_field_value(searcher: si.Searcher, query: str, expected: set[int]) -> None:
    assert set(ids(searcher.search(query, access=PUBLIC))) == expected


def test_unknown_field_reads_as_words(searcher: si.Searcher) -> None:
    assert ids(searcher.search("colour:warehouses", access=PUBLIC)) == [5]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced fire',
        "stray : colon",
        "AND AND",
        "OR",
        "-",
        "title:",
        "title:(((",
        "nope:",
        "fire AND AND OR safety",
        "x" * 10_000,
        "fire \x00 safety",
        "***",
        '""',
        '-""',
        "tag:*",
        "kind:zzz*",
        "(fire) [safety] {x} ^2 ~ \\",
    ],
)
def test_malformed_queries_never_raise(searcher: si.Searcher, query: str) -> None:
    result = searcher.search(query, access=PUBLIC)
    assert result.total >= 0
    assert searcher.suggest(query, access=PUBLIC) is not None


def test_malformed_query_keeps_its_plain_words(searcher: si.Searcher) -> None:
    assert ids(searcher.search('"warehouses', access=PUBLIC)) == [5]
    assert ids(searcher.search("warehouses\x00", access=PUBLIC)) == [5]


def test_snippets_mark_matches_and_escape_html(searcher: si.Searcher) -> None:
    hit = searcher.search("prévention", access=PUBLIC).hits[0]
    assert "<mark>prévention</mark>" in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html and "<script>" not in hit.snippet_html


def test_transcript_hits_carry_cue_start_times(searcher: si.Searcher) -> None:
    hit = searcher.search("drills", access=PUBLIC, filters=Filters(kinds=("webinar",))).hits[0]
    assert [(c.start, c.text) for c in hit.transcript_hits] == [(754.0, "Now the fire drills.")]
    assert "<mark>drills</mark>" in hit.transcript_hits[0].html


def test_sorting_and_pages(searcher: si.Searcher) -> None:
    assert ids(searcher.search("", access=PUBLIC, sort="downloads")) == [2, 1, 5]
    assert ids(searcher.search("", access=PUBLIC, sort="newest")) == [2, 1, 5]
    page2 = searcher.search("", access=PUBLIC, sort="newest", page=2, per_page=2)
    assert page2.total == 3 and ids(page2) == [5]


# --------------------------------------------------------------------------- access


def test_facets_count_only_visible_filtered_matches(searcher: si.Searcher) -> None:
    result = searcher.search("fire", access=PUBLIC)
    assert result.total == 2
    assert result.facets["kit"] == {"10": 1, "11": 1}
    assert result.facets["tag"] == {"Incendie": 2}
    assert result.facets["kind"] == {"webinar": 1, "document": 1}
    filtered = searcher.search("fire", access=PUBLIC, filters=Filters(years=(2020,)))
    assert filtered.total == 1 and filtered.facets["year"] == {"2020": 1}


def test_hidden_document_never_leaks(searcher: si.Searcher) -> None:
    result = searcher.search("zanzibar", access=MEMBERS)
    assert result.total == 0 and result.hits == []
    assert all(4 not in ids(searcher.search(q, access=MEMBERS)) for q in ("fire", "", "secret"))
    everything = searcher.search("", access=MEMBERS)
    assert "99" not in everything.facets["kit"] and "Secret" not in everything.facets["tag"]
    assert searcher.suggest("confid", access=MEMBERS) == []
    assert searcher.suggest("zanz", access=MEMBERS) == []
    assert searcher.search("zanzibat", access=MEMBERS).suggestion is None


def test_allow_and_deny_lists(searcher: si.Searcher) -> None:
    granted = Access(visibilities=frozenset({"public"}), allow_ids=frozenset({4}))
    assert ids(searcher.search("zanzibar", access=granted)) == [4]
    assert searcher.search("zanzibat", access=granted).suggestion == "zanzibar"
    titles = [c.text for c in searcher.suggest("confid", access=granted) if c.kind == "title"]
    assert titles == ["Confidential merger plan zanzibar"]
    denied = Access(visibilities=frozenset({"public"}), deny_ids=frozenset({2}))
    result = searcher.search("fire", access=denied)
    assert ids(result) == [5] and result.facets["webinar"] == {}


def test_did_you_mean_uses_visible_vocabulary(searcher: si.Searcher) -> None:
    assert searcher.search("warehuses", access=PUBLIC).suggestion == "warehouses"
    assert searcher.search("warehouses", access=PUBLIC).suggestion is None


def test_suggest_titles_and_terms(searcher: si.Searcher) -> None:
    got = searcher.suggest("Sécurité inc", access=PUBLIC)
    assert got[0] == si.Completion("Sécurité incendie en entreprise", "title", 1)
    assert si.Completion("securite incendie", "term") in got


# --------------------------------------------------------------------------- lifecycle


def test_apply_upserts_deletes_and_exposes_fingerprints(tmp_path: Path) -> None:
    ix = si.open_or_create(tmp_path / "ix")
    si.apply(ix, DOCS[:3], [])
    si.apply(ix, [IndexDoc(2, "Renamed webinar", language="en", fingerprint="v2")], [1])
    assert si.all_ids(ix) == {2: "v2", 3: ""}
    searcher = si.Searcher(tmp_path / "ix")
    assert ids(searcher.search("renamed", access=PUBLIC)) == [2]
    si.apply(ix, [IndexDoc(8, "Brand new guide", language="en")])
    assert ids(searcher.search("brand", access=PUBLIC)) == [8]  # refreshed, not reopened
    searcher.close()


def test_writer_cancels_and_reraises(tmp_path: Path) -> None:
    ix = si.open_or_create(tmp_path / "ix")
    with pytest.raises(RuntimeError, match="boom"), si.writer(ix) as w:
        w.add_document(**si.to_fields(DOCS[0]))
        raise RuntimeError("boom")
    assert si.all_ids(ix) == {}
    with si.writer(ix) as w:  # the lock was released by cancel()
        w.add_document(**si.to_fields(DOCS[0]))
    assert list(si.all_ids(ix)) == [1]


def test_corrupt_index_raises_and_is_not_wiped(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    si.rebuild(path, DOCS)
    current = path / si.CURRENT
    for f in current.iterdir():
        if f.suffix in (".toc", ".seg"):
            f.write_bytes(b"garbage")
    before = sorted(p.name for p in current.iterdir())
    with pytest.raises(si.IndexCorrupt):
        si.open_or_create(path)
    assert si.needs_rebuild(path)
    assert sorted(p.name for p in current.iterdir()) == before


def test_foreign_folder_is_refused_not_wiped(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(si.IndexCorrupt):
        si.open_or_create(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_version_stamp_mismatch_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    si.rebuild(path, DOCS[:1])
    assert not si.needs_rebuild(path)
    stamp = path / si.CURRENT / si.STAMP_FILE
    stamp.write_text(json.dumps({**si.expected_stamp(), "analyzer": -1}), encoding="utf-8")
    assert si.needs_rebuild(path)
    with pytest.raises(si.IndexOutdated):
        si.open_or_create(path)
    stamp.unlink()
    assert si.needs_rebuild(path)
    assert si.needs_rebuild(tmp_path / "missing")


def test_failed_rebuild_keeps_the_old_index(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    si.rebuild(path, DOCS)

    def broken() -> list[IndexDoc]:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        si.rebuild(path, (d for d in broken()))
    assert len(si.all_ids(si.open_or_create(path))) == len(DOCS)
    assert [p.name for p in path.glob("build-*")] == [str((path / si.CURRENT).readlink())]


def test_rebuild_swaps_while_another_thread_searches(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    si.rebuild(path, DOCS)
    searcher = si.Searcher(path)
    stale = si.Searcher(path)
    stale_view = stale._current()  # holds a Whoosh searcher on the old folder
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                totals.append(searcher.search("fire", access=PUBLIC).total)
            except BaseException as exc:  # noqa: BLE001 - any failure fails the test
                errors.append(exc)
                return

    thread = threading.Thread(target=hammer)
    thread.start()
    extra = [IndexDoc(100 + i, f"Fire manual {i}", language="en") for i in range(30)]
    for _ in range(3):
        si.rebuild(path, [*DOCS, *extra], procs=2)
    stop.set()
    thread.join()
    assert not errors
    assert totals and set(totals) <= {2, 32}
    assert searcher.search("fire", access=PUBLIC).total == 32
    assert len(list(path.glob("build-*"))) == 1
    # The old folder is gone, yet a searcher opened before the swap still answers.
    assert len(list(stale_view.searcher.documents())) == len(DOCS)
    searcher.close()
    stale.close()


VOCABULARY = (
    "fire safety drills warehouse workers factory floor exits equipment protection risk "
    "sécurité incendie désinfection désinfectant locaux prévention risques entreprise "
    "hygiène surfaces inox industrie agroalimentaire nettoyage protocole masques gel "
    "the a of and le la les des pour"
).split()


@pytest.fixture(scope="module")
def big_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[si.Searcher]:
    """600 seeded documents over a small vocabulary, built by two processes (two segments),
    then some deleted: posting lists long enough to span many blocks, with deleted entries."""
    import random

    rng = random.Random(7)
    docs = []
    for i in range(1, 601):
        words = rng.choices(VOCABULARY, k=rng.randint(5, 120))
        docs.append(IndexDoc(
            i, " ".join(rng.choices(VOCABULARY, k=rng.randint(2, 6))),
            language=rng.choice(["fr", "en"]), body=" ".join(words),
            kind=rng.choice(["document", "webinar"]),
            visibility=rng.choice(["public", "members"]),
            tags=tuple(rng.sample(["Incendie", "Hygiène", "Covid"], k=rng.randint(0, 2))),
            published=date(2020 + i % 5, 1 + i % 12, 1), download_count=i % 17))
    path = tmp_path_factory.mktemp("big") / "index"
    assert si.rebuild(path, docs, procs=2) == 600
    ix = si.open_or_create(path)
    assert len(ix.reader().leaf_readers()) >= 2  # noqa: SIM117 - the reader closes with ix
    si.apply(ix, [], deletes=range(1, 600, 7))
    ix.close()
    searcher = si.Searcher(path)
    yield searcher
    searcher.close()


def whoosh_scores(searcher: si.Searcher, text: str, access: Access) -> dict[int, float]:
    """Every visible match and its score, computed by Whoosh's own matchers."""
    view = searcher._current()
    query, _, _, allowed = searcher._match(view, text, access, Filters())
    # Whoosh finds the matches itself among the visible documents: this checks kitlib's
    # bitmap matching as well as its scoring.
    results = view.searcher.search(query, filter=set(docnums(allowed)), limit=None)
    return {int(hit["id"]): hit.score for hit in results}


@pytest.mark.parametrize("text", [
    "safety", "fire safety", "fire OR désinfection", "fire -drills", "title:fire",
    "sécurité incendie", "securite", "tag:incendie", "kind:webinar fire", "the fire",
    '"fire safety"', "saf*", "protection risk equipment exits floor",
])
def test_the_fast_scorer_gives_whooshs_own_scores(big_searcher: si.Searcher, text: str):
    """GIVEN posting lists over several segments, with deleted documents WHEN a query is
    ranked THEN kitlib's bitmaps and block-wise BM25F give exactly the documents and scores
    Whoosh's matchers give, in the same order."""
    expected = whoosh_scores(big_searcher, text, MEMBERS)
    ranked = big_searcher.rank(text, access=MEMBERS, limit=10_000)
    assert expected, "the query should match something"
    assert {i for i, _ in ranked} == set(expected)
    for doc_id, score in ranked:
        assert score == pytest.approx(expected[doc_id], rel=1e-9)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert big_searcher.search(text, access=MEMBERS).total == len(expected)
