"""How a benchmark reports: the machine it ran on, the time, Markdown tables, and its section
under "Latest figures" in docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
from pathlib import Path

from bench.harness import PAGE, REPO, human

DOCS = REPO / "docs" / "benchmarks.md"


def machine_note() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE
    return (
        f"{os.cpu_count()} cores ({cpu}), {human(mem)} RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}; client and servers share the same cores"
    )


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


LATEST = "## Latest figures"


def update_docs(heading: str, body: str) -> None:
    """Replace (or add) the ``### heading`` section under "Latest figures" in docs/benchmarks.md."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    section = f"### {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^### {re.escape(heading)}\n.*?(?=^##|\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    elif (start := text.find(f"{LATEST}\n")) < 0:
        text = f"{text.rstrip()}\n\n{LATEST}\n\n{section}"
    else:
        after = re.compile(r"^## ", re.MULTILINE).search(text, start + len(LATEST))
        end = after.start() if after else len(text)
        text = f"{text[:end].rstrip()}\n\n{section}\n{text[end:]}".rstrip() + "\n"
    DOCS.write_text(text, encoding="utf-8")
    print(f"wrote the '### {heading}' section of {DOCS.relative_to(REPO)}")


def table(rows: list[list[str]]) -> str:
    """A Markdown table (the first row is the header), readable as plain text too."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
