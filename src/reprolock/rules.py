"""The rule registry: every rule code of the contract, its name and default severity.

The registry is the single source of the rule reference in ``docs/rules.md``
(a test keeps the two in agreement), of ``--ignore`` / ``--fail-on``
validation, and of the names shown in every report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How serious a finding is; ``--fail-on`` picks the threshold."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    """When it fires, in one line (the contract's wording)."""


def _rules(*rows: tuple[str, str, Severity, str]) -> dict[str, Rule]:
    return {code: Rule(code, name, severity, summary) for code, name, severity, summary in rows}


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: notice (info)

RULES: dict[str, Rule] = _rules(
    ("RL101", "unpinned", E, "No exact `==`/`===` version (bare name, ranges, `~=`, `!=`, `==1.*`). Error in a pinned set, info in a loose input (`*.in`, `pyproject.toml`)."),
    ("RL102", "unhashed", W, "A pinned requirement without `--hash`; an error when the file hashes other requirements (pip's hash-checking mode then refuses it)."),
    ("RL103", "mutable-vcs-ref", E, "A VCS requirement not pinned to a full commit id (a branch, a tag, or nothing)."),
    ("RL104", "unhashed-url", W, "A direct archive URL without a hash (`#sha256=` or `--hash`)."),
    ("RL105", "local-path", W, "A local path or `file:` URL, which only exists on one machine."),
    ("RL106", "editable", W, "An `-e` requirement in a pinned set."),
    ("RL107", "env-var", W, "A `${VAR}` reference, expanded by pip at install time; reported unexpanded."),
    ("RL108", "credentials-in-url", E, "A user, password or token in a URL; the secret is shown as `****` in every output."),
    ("RL109", "inconsistent-pin", E, "One package pinned to different versions across the audited files (pins under different markers are not compared)."),
    ("RL110", "insecure-index", W, "An `http://` index or find-links URL, or `--trusted-host`, which turns off TLS checks."),
    ("RL111", "invalid-line", E, "A line that cannot be parsed; the rest of the file is still audited."),
    ("RL201", "freeze-artifact", W, "`pkg-resources==0.0.0` and other `0.0.0` placeholders, editable installs pip freeze could not trace, and the `## The following requirements were added by pip --freeze` block."),
    ("RL202", "non-portable-file-url", E, "`name @ file:///...` (conda build paths, local builds) that exists only on the machine that wrote it."),
    ("RL203", "stdlib-backport", W, "A distribution that is, or backports, a module of the target Python's standard library (`wsgiref`, `argparse`, `enum34`, `typing`, ...)."),
    ("RL301", "shadowed-distribution", E, "The same distribution installed more than once on `sys.path`; names the copy that wins."),
    ("RL302", "stdlib-shadow", E, "An installed distribution provides a top-level module that shadows, or is shadowed by, a stdlib module."),
    ("RL303", "module-collision", E, "Two installed distributions provide the same top-level module."),
    ("RL304", "system-provided", W, "Installed by the OS package manager (INSTALLER `debian`/`rpm`, no RECORD, distro `dist-packages`); names the owner package when known."),
    ("RL305", "externally-managed", N, "The interpreter is marked EXTERNALLY-MANAGED (PEP 668)."),
    ("RL306", "system-site-packages", W, "A virtualenv that sees the system site-packages."),
    ("RL307", "user-site", W, "A distribution loaded from the user site directory."),
    ("RL308", "local-shadow", E, "A file or folder in the project directory shadows an installed or standard-library module."),
    ("RL401", "conflict", E, "An installed or locked version does not satisfy a dependent's requirement."),
    ("RL402", "missing", E, "A required distribution is not installed, or not in the lock."),
    ("RL403", "cycle", N, "A dependency cycle."),
    ("RL404", "extraneous", W, "Installed or frozen, but not reachable from the declared requirements (`[build-system]` requirements and extras nobody asked for are not declared runtime requirements); in `verify`, installed but not in the lock, an error."),
    ("RL405", "version-mismatch", E, "The installed version differs from the version pinned in a file."),
    ("RL406", "lock-stale", E, "The lockfile no longer satisfies its input requirements."),
    ("RL501", "drift", N, "A newer release exists (a warning when a major version behind); detail has latest, newest allowed, the step and days behind."),
    ("RL502", "yanked", E, "The pinned or installed version is yanked (PEP 592), with the reason."),
    ("RL503", "vulnerable", E, "The pinned or installed version has known vulnerabilities (ids in detail)."),
    ("RL504", "not-on-index", E, "The project or the pinned version does not exist on the index."),
    ("RL505", "project-status", W, "PEP 792 status archived, deprecated or quarantined."),
    ("RL506", "unaudited", W, "Vulnerability data could not be obtained for some packages (listed in detail); they are never reported as free of vulnerabilities."),
    ("RL507", "hash-mismatch", E, "A `--hash` (or pylock hash) matches no file the index lists for that version; in `verify`, an installed archive whose hash the lock does not list, or installed files that no longer match their RECORD."),
    ("RL601", "image-unpinned-install", E, "A Dockerfile `pip install` (or `uv pip install`) of a name without an exact pin, or of a requirement file that is not a lock (that file is audited in place)."),
    ("RL602", "image-unhashed-install", W, "A Dockerfile pip install in the final image without `--require-hashes` or a hashed lock."),
    ("RL603", "image-system-pip", E, "`--break-system-packages`, `PIP_BREAK_SYSTEM_PACKAGES`, `pip install --user` or `sudo pip` in an image."),
    ("RL604", "image-distro-and-pip", E, "An OS package of a Python distribution (`python3-X`, `py3-X`) and a pip install of the same distribution in one image."),
    ("RL605", "image-base-not-pinned", W, "`FROM` without a digest (`@sha256:`), with `:latest` or no tag (not `scratch` or an earlier stage)."),
    ("RL606", "image-unpinned-tooling", W, "`pip install --upgrade pip` (or setuptools, wheel) without a pin."),
)

_BY_NAME = {rule.name: rule for rule in RULES.values()}


def lookup(key: str) -> Rule | None:
    """A rule by code (``RL101``, any case) or by name (``unpinned``)."""
    return RULES.get(key.strip().upper()) or _BY_NAME.get(key.strip().lower())
