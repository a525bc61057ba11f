"""Blob storage: content-addressed files under uploads/, their streaming writer and safe paths.

Imports ``errors`` only: storage knows bytes and keys, never rows or requests.
"""

from __future__ import annotations

from kitlib.storage.blobs import (
    STALE_AFTER,
    Blob,
    Storage,
    file_chunks,
    file_crc32,
    sniff_media_type,
)

__all__ = ["STALE_AFTER", "Blob", "Storage", "file_chunks", "file_crc32", "sniff_media_type"]
