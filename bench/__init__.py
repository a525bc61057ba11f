"""kitlib's benchmarks and long runs, each a module run from the checkout's root as
``python -m bench.download`` (``upload``, ``bundle``, ``ingest``, ``load``, ``search``,
``relevance``, ``crash``); their figures go to docs/benchmarks.md and docs/reliability.md.

Owns the throw-away servers (``harness``, ``servers``, ``live``), the report writing
(``_report``) and the crash harness (``crashkit``). May import kitlib and the standard
tools it drives (curl, wrk, nginx); never ``tests`` (the tests import from here).
"""
