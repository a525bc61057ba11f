"""The long crash run: ``kitlib serve`` killed with SIGKILL at random moments, 50 times or
more, under a mixed workload, then the search worker killed alone; after every restart the
checks of tests/crashkit.py (acknowledged uploads whole, deletes gone, storage and index in
agreement with the database, or repaired by ``kitlib check --repair``).

    .venv/bin/python -m bench.crash [--kills 50] [--worker-kills 10] [--clients 3]
                                    [--database-url postgres://…]

Prints one JSON line per phase and exits 1 if anything acknowledged was lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.crashkit import crash_cycles, summary, worker_crash_cycles
from kitlib.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    lost = 0
    with tempfile.TemporaryDirectory(prefix="kitlib-crash-") as root:
        overrides = {"database_url": args.database_url} if args.database_url else {}
        settings = Settings.for_root(Path(root) / "server", index_worker=True,
                                     media_worker=True, **overrides)
        started = time.monotonic()
        outcome = crash_cycles(settings, args.kills, seed=args.seed, clients=args.clients)
        print(json.dumps({"phase": "server kills", **summary(outcome),
                          "minutes": round((time.monotonic() - started) / 60, 1)}))
        for line in outcome.lost:
            print("LOST", line)
        for line in outcome.repairs:
            print("REPAIRED", line[:400])
        lost += len(outcome.lost)
        if not args.database_url:
            settings = Settings.for_root(Path(root) / "worker")
            started = time.monotonic()
            worker = worker_crash_cycles(settings, args.worker_kills, seed=args.seed)
            print(json.dumps({"phase": "search worker kills", **summary(worker),
                              "minutes": round((time.monotonic() - started) / 60, 1)}))
            for line in worker.lost:
                print("LOST", line)
            lost += len(worker.lost)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
