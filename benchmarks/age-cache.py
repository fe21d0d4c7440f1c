"""Make a reprolock cache folder look as if it had been filled SECONDS ago (default 3600): age-cache.py FOLDER [SECONDS].

Every JSON file whose top level holds ``"fetched"`` (index pages, project facts,
per-index data: see src/reprolock/index/cache.py), and every lock table whose
first line is a JSON header holding it (src/reprolock/lock/tables.py; the
offsets of its body count from the end of that line), gets ``fetched = now -
SECONDS``, and every file and folder gets its mtime set back by as much (the
``last-fetch`` mark is read by its mtime). Entries stay fresh for minutes
(``max_age``, else 300 s), so after this a run must revalidate or refetch them:
a stale cache. Wheel metadata (``metadata-v1``) never goes stale and is kept.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _aged(content: bytes, then: float) -> bytes | None:
    """``content`` with its ``fetched`` set to ``then``: a JSON file, or a file whose first line is a JSON header."""
    head, newline, body = content.partition(b"\n")
    for text, rest in ((head, newline + body), (content, b"")):
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and "fetched" in data:
            data["fetched"] = then
            return json.dumps(data, separators=(",", ":")).encode() + rest
        return None
    return None


def age(folder: Path, seconds: float) -> int:
    then = time.time() - seconds
    aged = 0
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folder
        if path.is_file() and path.suffix in {".json", ".table"}:
            content = _aged(path.read_bytes(), then)
            if content is not None:
                path.write_bytes(content)
                aged += 1
        os.utime(path, (then, then))
    os.utime(folder, (then, then))
    return aged


def main() -> int:
    folder = Path(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    if not folder.is_dir():
        print(f"age-cache.py: {folder} is not a folder", file=sys.stderr)
        return 2
    aged = age(folder, seconds)
    if aged == 0:
        print(f"age-cache.py: no JSON file with 'fetched' under {folder}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
