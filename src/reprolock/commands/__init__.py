"""One module per command: wiring from parsed arguments to sources, checks and renderers.

Each module has ``run(args, context) -> int``; ``cli.main`` imports only the
one that runs and turns its errors into exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Context:
    """Where a command runs and what it reads and writes: never the process globals."""

    cwd: Path
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
