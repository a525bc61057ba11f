"""Keep credentials that travel in URLs out of the access log.

A personal feed token (``?token=kf_…``), a signed media grant (``?grant=…``) and an
attendee's link (``/attend/ka_…``) sit in URLs on purpose: readers, players and e-mails
cannot send headers. uvicorn's access log prints every URL whole, so this filter rewrites
them before the line is written.
"""

from __future__ import annotations

import logging
import re

_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|grant)=)[^&\s]*")
_PATH_SECRET = re.compile(r"(/attend/)[^/?\s]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _PATH_SECRET.sub(r"\1" + REDACTED, _QUERY_SECRET.sub(r"\1" + REDACTED, text))


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Filter uvicorn's access log (idempotent: every app of a process calls it)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
