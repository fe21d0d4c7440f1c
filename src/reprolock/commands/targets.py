"""A target named on the command line (``--python-version``, ``--platform``, ``--implementation``), for lock, audit and graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reprolock.lock.othertarget import NamedTarget


def named_target_of(python_version: str | None, platform: str | None, implementation: str | None = None) -> NamedTarget | None:
    """The target the options name, what they leave out being the running interpreter's; ``None`` when none is given."""
    if not (python_version or platform or implementation):
        return None
    from reprolock.lock.othertarget import named_target  # noqa: PLC0415 - the target code (packaging.tags) only with these options
    from reprolock.lock.target import running_target  # noqa: PLC0415 - as above

    return named_target(python_version, platform, implementation, running_target())
