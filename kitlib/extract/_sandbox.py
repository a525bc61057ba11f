"""The extraction child: one JSON request on stdin, one JSON answer on a private descriptor.

Run as ``python -P -m kitlib.extract._sandbox`` by ``extract_safely`` (``-P``: the child's
working folder is never on sys.path); it imports kitlib.extract and kitlib.formats only, never
the web application.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from dataclasses import asdict
from pathlib import Path

from kitlib.extract._base import MIB, ExtractionError
from kitlib.extract._process import memory_reason
from kitlib.extract._registry import extract


def _worker_main() -> None:
    """Child side of extract_safely: one JSON request on stdin, one JSON answer on a private fd."""
    import resource

    # Stray prints from C libraries must not corrupt the answer: fd 1 now goes to stderr.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    # pypdf logs a warning per damaged object: a hostile PDF could fill the disk behind stderr.
    logging.disable(logging.WARNING)
    request = json.loads(sys.stdin.buffer.read(1_000_000))
    memory_mb = int(request["memory_mb"])
    oom = json.dumps({"ok": False, "reason": memory_reason(memory_mb)}).encode()
    memory = memory_mb * MIB
    cpu = math.ceil(float(request["timeout_s"])) + 1
    # Set from outside already on Linux (race-free); repeated for platforms without prlimit.
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        result = extract(
            Path(request["path"]), request["media_type"], max_chars=int(request["max_chars"])
        )
        payload = json.dumps({"ok": True, "result": asdict(result)}).encode()
    except ExtractionError as exc:
        payload = json.dumps({"ok": False, "reason": exc.reason}).encode()
    except MemoryError:
        payload = oom
    with os.fdopen(answer_fd, "wb") as answer:
        answer.write(payload)


if __name__ == "__main__":
    _worker_main()
