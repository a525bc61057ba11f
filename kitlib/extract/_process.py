"""extract_safely: extraction in a child process with a memory limit and a wall-clock timeout.

The child (``kitlib.extract._sandbox``) gets its limits from outside before it reads the
request, runs in its own process group so that a kill reaches whatever it forks, and answers
on a private descriptor so that stray prints from C libraries cannot corrupt the answer.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from kitlib.extract._base import MAX_TEXT_CHARS, MIB, Cue, Extracted, ExtractionError

__all__ = ["extract_safely", "memory_reason"]

logger = logging.getLogger("kitlib.extract")


# -P: the child's working folder is not put on sys.path, so no file there can shadow a module;
# the child imports this package and kitlib.formats, never the web application.
_WORKER_COMMAND = [sys.executable, "-P", "-m", "kitlib.extract._sandbox"]


def memory_reason(memory_mb: int) -> str:
    return f"extraction needed more than {memory_mb} MB of memory"


def _cap_child(pid: int, timeout_s: float, memory_mb: int) -> None:
    """Apply the limits to the child from outside, before it receives any work."""
    import resource

    memory = memory_mb * MIB
    cpu = math.ceil(timeout_s) + 1
    prlimit = getattr(resource, "prlimit", None)
    if prlimit is None:  # not Linux: the worker applies the same limits to itself
        return
    try:
        prlimit(pid, resource.RLIMIT_AS, (memory, memory))
        prlimit(pid, resource.RLIMIT_CPU, (cpu, cpu + 1))
        prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    except ProcessLookupError:
        pass  # already gone; its exit status tells what happened


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def extract_safely(
    path: Path,
    media_type: str,
    timeout_s: float = 60,
    memory_mb: int = 512,
    *,
    max_chars: int = MAX_TEXT_CHARS,
) -> Extracted:
    """Extract in a child process killed past timeout_s seconds or memory_mb MB of address space."""
    if timeout_s <= 0 or memory_mb <= 0:
        raise ValueError("timeout_s and memory_mb must be positive")
    request = json.dumps(
        {
            "path": str(Path(path).resolve()),
            "media_type": media_type,
            "max_chars": max_chars,
            "timeout_s": timeout_s,
            "memory_mb": memory_mb,
        }
    ).encode()
    with tempfile.TemporaryFile() as stderr:
        # A new session gives the child its own process group: the kill reaches whatever it forks.
        process = subprocess.Popen(
            _WORKER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            _cap_child(process.pid, timeout_s, memory_mb)
            answer, _ = process.communicate(request, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.communicate()
            raise ExtractionError(f"extraction took longer than {timeout_s:g} s") from None
        except BaseException:
            _kill(process)
            process.communicate()
            raise
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 4000))
        errors = stderr.read().decode("utf-8", "replace")
    return _answer(process.returncode, answer, errors, timeout_s, memory_mb)


def _answer(
    returncode: int, answer: bytes, errors: str, timeout_s: float, memory_mb: int
) -> Extracted:
    """Turn the child's exit status and JSON answer into a result or an ExtractionError."""
    if returncode == 0:
        try:
            data = json.loads(answer)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("ok"):
            result = data["result"]
            result["cues"] = [Cue(**cue) for cue in result["cues"]]
            return Extracted(**result)
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            raise ExtractionError(data["reason"])
    logger.warning("extraction child exited with %s: %s", returncode, errors[-2000:])
    if "MemoryError" in errors:
        raise ExtractionError(memory_reason(memory_mb))
    if returncode == -signal.SIGXCPU:
        raise ExtractionError(f"extraction took longer than {timeout_s:g} s of processor time")
    if returncode == -signal.SIGKILL:  # not ours (we raise on timeout): the kernel's OOM killer
        raise ExtractionError("the extraction was stopped by the system, probably short of memory")
    if returncode < 0:
        name = signal.Signals(-returncode).name
        raise ExtractionError(
            f"the extraction crashed ({name}): the file is damaged, or it needed more than "
            f"{memory_mb} MB of memory"
        )
    raise ExtractionError(f"the extraction failed unexpectedly (exit status {returncode})")
