"""kitlib's benchmarks and long runs, each a module run from the checkout's root as
``python -m bench.download`` (``upload``, ``bundle``, ``ingest``, ``load``, ``search``,
``relevance``, ``crash``); their figures go to docs/benchmarks.md and docs/reliability.md.

Owns the throw-away processes and samplers (``harness``), the servers measured (``servers``,
and ``live`` for the crash runs and the tests), the report writing (``_report``,
``download_report``), the load library (``load_library``), the search corpus and reference
(``search_corpus``, ``search_fts``, ``search_measure``) and the crash harness (``crashkit``).
May import kitlib and drive the tools it measures against (curl, wrk, nginx); never
``tests``, which import from here.
"""
