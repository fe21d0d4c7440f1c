"""Pins for freeze-equivalent locks: from a ``pip freeze`` dump or an inspected environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet

from reprolock.lock.inputs import named_needs
from reprolock.lock.pinned import Pin, pinned_lock
from reprolock.lock.provider import Need

if TYPE_CHECKING:
    from reprolock.findings import Finding
    from reprolock.index.models import PackageFinder
    from reprolock.lock.inputs import Roots
    from reprolock.lock.model import Lock
    from reprolock.lock.target import LockTarget
    from reprolock.records import Environment, InstalledDistribution, Requirement, SourceFile

PLACEHOLDER = "0.0.0"
TOOLING = frozenset({"pip", "setuptools", "wheel"})
"""Installers' own tools: not roots of an environment's lock (kept when something requires them)."""
SYSTEM_INSTALLERS = frozenset({"debian", "rpm", "dpkg", "apt", "conda"})


def _freeze_pin(requirement: Requirement) -> Pin | None:
    """A freeze line as a pin; ``None`` for an artefact (RL201) or an unnamed line."""
    if requirement.name is None:
        return None
    if requirement.pinned_version == PLACEHOLDER:
        return None  # pkg-resources==0.0.0 and local-build placeholders: reported as RL201
    if requirement.url is not None:
        if requirement.editable:
            reason, rule = f"editable install from {requirement.url}", "RL106"
        elif requirement.url.startswith("file:") or requirement.local:
            reason, rule = f"installed from {requirement.url}", None  # RL202 comes from the freeze checks
        else:
            reason, rule = f"installed from {requirement.url}", "RL504"
        return Pin(requirement.name, requirement.pinned_version or "0", unreproducible=reason, rule=rule, origin=requirement.origin)
    version = requirement.pinned_version
    if version is None:
        return None
    return Pin(requirement.name, version, origin=requirement.origin)


def pins_from_freeze(freeze: SourceFile) -> dict[str, Pin]:
    """Every pin of a freeze dump, artefacts dropped; a later line for a name wins, as with pip."""
    pins: dict[str, Pin] = {}
    for requirement in freeze.requirements:
        pin = _freeze_pin(requirement)
        if pin is not None:
            pins[pin.name] = pin
    return pins


def _unreproducible(dist: InstalledDistribution) -> tuple[str | None, str | None]:
    if dist.editable:
        return f"editable install{f' from {dist.direct_url}' if dist.direct_url else ''}", "RL106"
    if dist.direct_url:
        return f"installed from {dist.direct_url}", "RL105"
    if (dist.installer or "").lower() in SYSTEM_INSTALLERS or (not dist.has_record and not dist.egg_info):
        return f"installed by the system package manager ({dist.installer or 'no RECORD'})", "RL304"
    return None, None


def pins_from_environment(environment: Environment) -> dict[str, Pin]:
    """The winning copy of each installed distribution, with its own ``Requires-Dist``."""
    pins = {}
    for name, dist in sorted(environment.winners().items()):
        reason, rule = _unreproducible(dist)
        pins[name] = Pin(name, dist.version, requires=dist.requires, unreproducible=reason, rule=rule)
    return pins


def freeze_lock(freeze: SourceFile, roots: Roots | None, finder: PackageFinder, target: LockTarget, *, command: str, workers: int = 0) -> tuple[Lock, list[Finding]]:
    """``--from-freeze``: a lock of the freeze's pins (only the closure of ``roots`` when inputs are given)."""
    return pinned_lock(pins_from_freeze(freeze), named_needs(roots) if roots is not None else None, finder, target, command=command, workers=workers)


def environment_lock(
    environment: Environment, roots: Roots | None, finder: PackageFinder, target: LockTarget, *, command: str, workers: int = 0
) -> tuple[Lock, list[Finding]]:
    """``--from-env``: a lock of what is installed (the closure of ``roots``, else of everything but the installers' tools)."""
    pins = pins_from_environment(environment)
    needs = named_needs(roots) if roots is not None else tuple(Need(name, SpecifierSet()) for name in pins if name not in TOOLING)
    return pinned_lock(pins, needs, finder, target, command=command, workers=workers)
