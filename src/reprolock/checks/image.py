"""Container images: what a Dockerfile installs, and from what."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.checks.distronames import pypi_name
from reprolock.findings import Finding, finding

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from reprolock.dockerrecords import Dockerfile, PipInstall, RequirementFileRef, Stage
    from reprolock.records import Origin, Requirement, SourceFile

_TOOLING = frozenset({"pip", "setuptools", "wheel"})
_SYSTEM_SETTINGS = frozenset({"PIP_BREAK_SYSTEM_PACKAGES", "UV_BREAK_SYSTEM_PACKAGES", "PIP_USER"})
_HASH_SETTINGS = ("PIP_REQUIRE_HASHES", "UV_REQUIRE_HASHES")
_SHOWN_NAMES = 5


def check_image(files: Sequence[SourceFile]) -> Iterator[Finding]:
    """Container images (RL601, RL602, RL603, RL604, RL605, RL606).

    A Dockerfile is an install script: every build runs its ``pip install``
    lines again, against whatever the index and the base image hold that day.
    RL601: a requirement argument without an exact ``==`` pin (or a VCS
    reference not at a full commit id), and a ``-r`` file that is not a lock.
    Such a file is followed through the ``COPY``/``ADD`` (or bind mount) that
    puts it in the image back to the repository file, which is audited in
    place as an input of its own: its findings are at its own lines, and the
    message gives the chain. RL602: an install in the final image (its last
    stage and the stages that one is built on) without ``--require-hashes``
    (or ``PIP_REQUIRE_HASHES``) and without a hashed lock, which would turn
    pip's hash checking on. RL603: ``--break-system-packages``,
    ``PIP_BREAK_SYSTEM_PACKAGES``, ``--user``, ``PIP_USER`` and ``sudo pip``
    let pip write over the Python packages of the OS (use a virtual
    environment). RL604: a Python package from the OS package manager
    (``python3-jinja2``, ``py3-yaml``; the names are mapped to PyPI's, so
    ``python3-yaml`` is PyYAML) and a pip install of the same distribution in
    one image: two copies, one of them with its files overwritten by the
    other; an install into a virtual environment or ``--target`` folder is
    not counted. RL605: a ``FROM`` without ``@sha256:`` (worse: ``:latest`` or
    no tag) gets a different base image whenever the tag moves; ``scratch``
    and earlier stages are exempt, as is a build argument with no default.
    RL606: ``pip install --upgrade pip`` (or setuptools, wheel) without a pin
    makes each build's installer the newest one. Every finding is at the
    Dockerfile line that does it.
    """
    sources = {source.path: source for source in files}
    for source in files:
        image = source.dockerfile
        if image is None:
            continue
        yield from _base_images(image.stages)
        yield from _system_settings(image)
        for install in image.pip_installs:
            yield from _unpinned(install, sources)
            yield from _tooling(install)
            yield from _system_pip(install)
        final = image.chain(image.final) if image.final is not None else ()
        yield from (_unhashed(install) for install in image.pip_installs if install.stage in final and _downloads_unhashed(install, sources))
        yield from _distro_and_pip(image, sources)


def _base_images(stages: Sequence[Stage]) -> Iterator[Finding]:
    """RL605 for each ``FROM`` of a base image without a digest."""
    for stage in stages:
        if stage.parent is not None or stage.image.lower() == "scratch" or stage.digest:
            continue
        if stage.unresolved and "${" in (stage.tag or stage.repository):
            continue  # the tag (or the whole reference) is a build argument with no default: the build decides
        if stage.tag is None or stage.tag == "latest":
            why = "has no tag (it means :latest)" if stage.tag is None else "uses :latest"
            message = f"FROM {stage.image} {why} and no digest: every build may start from a different image"
        else:
            message = f"FROM {stage.image} has no digest: the tag moves when the image is rebuilt; pin it with @sha256:..."
        yield finding("RL605", message, location=stage.origin, image=stage.image, tag=stage.tag, digest=None)


def _system_settings(image: Dockerfile) -> Iterator[Finding]:
    """RL603 for ``PIP_BREAK_SYSTEM_PACKAGES``/``PIP_USER`` set by ``ENV``, ``ARG``, ``export``, ``pip config`` or a prefix."""
    for setting in image.settings:
        if setting.name in _SYSTEM_SETTINGS and setting.enabled:
            message = f"{setting.how} {setting.name}={setting.value} lets every later pip install write over the OS's Python packages"
            yield finding("RL603", message, location=setting.origin, setting=setting.name, how=setting.how)


def _system_pip(install: PipInstall) -> Iterator[Finding]:
    """RL603 for the install's own ``--break-system-packages``, ``--user`` or ``sudo``."""
    reasons = [flag for flag in ("--break-system-packages", "--user") if install.has(flag)]
    if install.sudo:
        reasons.append("sudo")
    if reasons:
        message = f"{install.command}: {' and '.join(reasons)} let pip write over the OS's Python packages; install into a virtual environment"
        yield finding("RL603", message, location=install.origin, reasons=reasons)


def _tooling(install: PipInstall) -> Iterator[Finding]:
    """RL606 for pip, setuptools and wheel installed without an exact pin."""
    for req in install.requirements:
        if req.name in _TOOLING and req.pinned_version is None and not req.is_direct:
            message = f"{install.command}: {req.name} is not pinned, so each build gets the newest {req.name}"
            yield finding("RL606", message, package=req.name, location=req.origin, specifier=str(req.specifier))


def _included(path: str, sources: Mapping[str, SourceFile]) -> list[SourceFile]:
    """The file at ``path`` and every file it includes (``-r``/``-c``), as the loader read them."""
    found = [sources[path]] if path in sources else []
    for source in found:
        found.extend(other for other in sources.values() if other.included_from and other.included_from.path == source.path and other not in found)
    return found


def _loose(req: Requirement) -> bool:
    """Not one exact version: no ``==`` pin, or a VCS reference not at a full commit id."""
    if req.constraint or req.local:
        return False
    if req.vcs is not None:
        return not req.vcs.is_full_commit
    return req.name is not None and not req.is_direct and req.pinned_version is None


def _constrained(install: PipInstall, sources: Mapping[str, SourceFile]) -> set[str]:
    """Names the install's ``-c`` files pin exactly: pinned, whatever the arguments say."""
    names: set[str] = set()
    for ref in install.files:
        if ref.constraint and ref.source is not None:
            names.update(req.name for source in _included(ref.source, sources) for req in source.requirements if req.name and req.pinned_version)
    return names


def _unpinned(install: PipInstall, sources: Mapping[str, SourceFile]) -> Iterator[Finding]:
    """RL601 for loose requirement arguments and for ``-r`` files that are not locks."""
    pinned_by_constraints = _constrained(install, sources)
    for req in install.requirements:
        if _loose(req) and req.name not in _TOOLING and req.name not in pinned_by_constraints:
            if req.vcs is not None:
                why = f"follows {req.vcs.ref or 'the default branch'}, not a full commit id"
            else:
                why = f"is not pinned to an exact version ({req.specifier or 'no version given'})"
            message = f"{install.command}: {req.raw_name or req.text} {why}"
            yield finding("RL601", message, package=req.name, location=req.origin, specifier=str(req.specifier))
    for ref in install.files:
        if ref.source is not None and not ref.constraint:
            yield from _unlocked(install, ref, sources, pinned_by_constraints)


def _unlocked(install: PipInstall, ref: RequirementFileRef, sources: Mapping[str, SourceFile], pinned: set[str]) -> Iterator[Finding]:
    loose = [req for source in _included(ref.source or "", sources) for req in source.requirements if _loose(req) and req.name not in pinned]
    if not loose:
        return
    names = ", ".join(f"{req.raw_name or req.text} ({req.origin})" for req in loose[:_SHOWN_NAMES])
    more = f" and {len(loose) - _SHOWN_NAMES} more" if len(loose) > _SHOWN_NAMES else ""
    chain = f"{ref.origin} (-r {ref.written}) -> {ref.via} -> {ref.source}"
    message = f"{install.tool} install -r {ref.written} installs {ref.source}, which is not a lock: {names}{more} not pinned exactly (chain: {chain})"
    yield finding("RL601", message, location=ref.origin, file=ref.source, unpinned=[req.name for req in loose], chain=chain)


def _hashed(install: PipInstall, sources: Mapping[str, SourceFile]) -> bool:
    """``--require-hashes`` (or its variable), or a followed file with a hash: pip's hash checking is on for the whole install."""
    if install.has("--require-hashes") or install.setting(*_HASH_SETTINGS) is not None:
        return True
    return any(source.hash_mode for ref in install.files if ref.source for source in _included(ref.source, sources))


def _downloads_unhashed(install: PipInstall, sources: Mapping[str, SourceFile]) -> bool:
    """Whether the install fetches from an index without hash checking (RL606 alone covers a bare pip/setuptools/wheel upgrade)."""
    if install.has("--no-index") or _hashed(install, sources):
        return False
    named = [req for req in install.requirements if not req.local]
    if not named and not install.files and not install.unresolved:
        return bool(install.requirements) and not install.has("--no-deps")
    return not (named and not install.files and all(req.name in _TOOLING and req.pinned_version is None for req in named))


def _unhashed(install: PipInstall) -> Finding:
    """RL602 for one install of the final image."""
    files = [ref for ref in install.files if not ref.constraint]
    lock = " and its requirement files carry no --hash" if any(ref.source for ref in files) else ""
    unread = [ref.written for ref in files if ref.source is None]
    seen = f" ({', '.join(unread)} could not be read)" if unread else ""
    message = f"{install.command}: no --require-hashes{lock}{seen}, so pip installs whatever files the index serves"
    return finding("RL602", message, location=install.origin, stage=install.stage)


def _distro_and_pip(image: Dockerfile, sources: Mapping[str, SourceFile]) -> Iterator[Finding]:
    """RL604: an OS package of a Python distribution and a pip install of it in one image."""
    distro = [(pypi_name(package.name), package) for package in image.os_packages]
    known = [(name, package) for name, package in distro if name is not None]
    if not known:
        return
    for install in image.pip_installs:
        if install.into is not None:
            continue
        for name, where, written in _pip_names(install, sources):
            for os_name, package in known:
                if os_name == name and image.same_image(package.stage, install.stage):
                    message = (
                        f"{written} is installed by pip ({install.command}) over the OS package {package.name} ({package.origin}): "
                        "two copies of one distribution, the OS package's files overwritten"
                    )
                    yield finding("RL604", message, package=name, location=where, os_package=package.name, manager=package.manager)


def _pip_names(install: PipInstall, sources: Mapping[str, SourceFile]) -> Iterator[tuple[str, Origin, str]]:
    """The distributions an install names, each with the Dockerfile line that brings it in and how it is written."""
    for req in install.requirements:
        if req.name is not None:
            yield req.name, req.origin, req.raw_name or req.name
    for ref in install.files:
        if ref.source is not None and not ref.constraint:
            for source in _included(ref.source, sources):
                for req in source.requirements:
                    if req.name is not None and not req.constraint:
                        yield req.name, ref.origin, f"{req.raw_name or req.name} ({req.origin}, through -r {ref.written})"
