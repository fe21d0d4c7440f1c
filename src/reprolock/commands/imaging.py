"""``--image``: a container image's environments where the other commands inspect an interpreter.

``audit`` runs the environment rules for every environment of the image (the
one ``python3`` runs first is the report's environment) and names, in each
finding about an installed file, the image, the layer that brought the file
in (its digest and Dockerfile instruction) and the path inside the image;
``graph`` and ``lock --from-env`` take one environment (``--python`` picks
it by its path inside the image).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprolock.environment_audit import audit_environment
from reprolock.errors import UsageError
from reprolock.lock.imagetarget import image_target
from reprolock.records import Origin
from reprolock.sources.image.inspection import inspect_image

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from reprolock.commands import Context
    from reprolock.environment_audit import EnvironmentAudit
    from reprolock.findings import Finding
    from reprolock.lock.target import LockTarget
    from reprolock.records import Environment, SourceFile
    from reprolock.sources.image.model import ImageInspection, Placed


def choose(inspection: ImageInspection, python: str | None) -> tuple[Environment, ...]:
    """The image's environments, or the one whose executable or prefix inside the image is ``python``."""
    if python is None:
        return inspection.environments
    wanted = python.rstrip("/") or "/"
    for env in inspection.environments:
        interpreter = env.interpreter
        if wanted in {interpreter.executable, interpreter.prefix, interpreter.python}:
            return (env,)
    found = ", ".join(env.interpreter.executable or env.interpreter.prefix for env in inspection.environments)
    raise UsageError(f"--python {python}: no such interpreter in {inspection.image.shown}", hint=f"the image has {found}")


def inspect_one(image: str, python: str | None, context: Context, *, modules: bool = False) -> Environment:
    """The environment ``graph`` and ``lock --from-env`` use: ``--python``'s, else the one ``python3`` runs first."""
    inspection = inspect_image(image, context.cwd, modules=modules)
    tell(inspection, context)
    return choose(inspection, python)[0]


def image_environment(image: str, python: str | None, context: Context) -> tuple[Environment, LockTarget]:
    """``lock --from-env --image``: the environment to pin and the target it is locked for."""
    inspection = inspect_image(image, context.cwd, modules=False)
    tell(inspection, context)
    env = choose(inspection, python)[0]
    return env, image_target(env.interpreter, inspection.libc, image)


def tell(inspection: ImageInspection, context: Context) -> None:
    """What the files could not tell, on stderr."""
    for note in inspection.notes:
        context.stderr.write(f"reprolock: note: {inspection.image.shown}: {note}\n")


@dataclass(frozen=True, slots=True)
class ImageAudit:
    """The environment step of ``audit --image``: the report's environment, its audit, and the image."""

    inspection: ImageInspection
    environment: Environment
    checked: EnvironmentAudit
    """The first environment's audit, its findings (and those of the image's other environments) placed in the image."""

    def placed(self, findings: Iterable[Finding]) -> list[Finding]:
        """``findings`` with the image, layer and in-image path of the installed file each is about."""
        return [place(item, self.inspection, self.environment) for item in findings]


def _facts(checked: EnvironmentAudit, inspection: ImageInspection) -> dict[str, dict[str, Any]]:
    """The package rows' facts, with who installed each and where it is in the image."""
    facts: dict[str, dict[str, Any]] = {}
    for name, known in checked.facts.items():
        dist = checked.installed[name]
        facts[name] = {
            **known,
            "installed_by": inspection.installer_of(dist.metadata_path),
            "image": inspection.place(dist.metadata_path).to_dict(inspection.image),
        }
    return facts


def audit_image(image: str, python: str | None, files: Sequence[SourceFile], context: Context) -> ImageAudit:
    """Inspect the image and audit its environments: the first with the files (file rules for its Python), the others alone."""
    inspection = inspect_image(image, context.cwd)
    tell(inspection, context)
    chosen = choose(inspection, python)
    first = audit_environment(chosen[0], files, {}, project=None)
    found = [place(item, inspection, chosen[0]) for item in first.findings]
    for env in chosen[1:]:
        found.extend(place(item, inspection, env) for item in audit_environment(env, (), {}, project=None).findings)
    checked = dataclasses.replace(first, findings=tuple(found), facts=_facts(first, inspection))
    return ImageAudit(inspection, chosen[0], checked)


def _subject(item: Finding, env: Environment) -> str | None:
    """The in-image file a finding is about: a metadata folder, a PEP 668 marker, a ``pyvenv.cfg``."""
    detail = item.detail
    for key in ("metadata", "marker"):
        if isinstance(detail.get(key), str):
            return str(detail[key])
    if item.rule == "RL306":
        return f"{env.interpreter.prefix.rstrip('/')}/pyvenv.cfg"
    winners = env.winners()
    for name in (item.package, detail.get("required_by")):
        if isinstance(name, str) and name in winners:
            return winners[name].metadata_path
    return None


def _copies(copies: object, inspection: ImageInspection) -> object:
    """RL301's copies, each with its layer and who installed it."""
    if not isinstance(copies, list):
        return copies
    return [
        {**copy, "installed_by": inspection.installer_of(copy["metadata"]), "layer": _layer(inspection.place(copy["metadata"]))}
        if isinstance(copy, dict) and isinstance(copy.get("metadata"), str)
        else copy
        for copy in copies
    ]


def _layer(placed: Placed) -> dict[str, Any] | None:
    return placed.layer.to_dict() if placed.layer is not None else None


def place(item: Finding, inspection: ImageInspection, env: Environment) -> Finding:
    """``item`` located in the image (the image as its file) with ``detail.image``; a finding on a file line stays as it is."""
    if item.location is not None or "image" in item.detail:
        return item
    subject = _subject(item, env)
    detail = dict(item.detail)
    if subject is not None:
        detail["image"] = {**inspection.place(subject).to_dict(inspection.image), "python": env.interpreter.executable}
    else:
        detail["image"] = {"image": inspection.image.shown, "path": None, "layer": None, "python": env.interpreter.executable}
    if "copies" in detail:
        detail["copies"] = _copies(detail["copies"], inspection)
    return dataclasses.replace(item, location=Origin(inspection.image.shown), detail=detail)
