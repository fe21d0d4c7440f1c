"""File hygiene: variables, secrets, insecure indexes and unparsable lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.findings import Finding, finding

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from reprolock.records import SourceFile

_INDEX_OPTIONS = {"--index-url", "--extra-index-url", "--find-links"}


def _package_at(source: SourceFile, line: int | None) -> str | None:
    return next((req.name for req in source.requirements if req.origin.line == line), None)


def check_hygiene(files: Sequence[SourceFile]) -> Iterator[Finding]:
    """File hygiene (RL107, RL108, RL110, RL111).

    ``${VAR}`` references are expanded by pip from the environment at install
    time, so the file alone does not say what gets installed (RL107; shown
    unexpanded). A user name, password or token written into a URL is a leaked
    secret (RL108): use ``${VAR}``, ``~/.netrc`` or a keyring instead; every
    output shows it as ``****``. A plain ``http://`` index and
    ``--trusted-host`` let anyone on the path swap packages (RL110). A line
    that cannot be parsed is RL111; the rest of the file is still audited.
    """
    for source in files:
        for ref in source.env_vars:
            yield finding(
                "RL107",
                f"${{{ref.name}}} is expanded from the environment at install time",
                package=_package_at(source, ref.origin.line),
                location=ref.origin,
                variable=ref.name,
            )
        for secret in source.secrets:
            yield finding(
                "RL108",
                f"credentials written into a URL ({secret.where}); shown as ****, use ${{VAR}} or ~/.netrc instead",
                package=secret.package,
                location=secret.origin,
            )
        for option in source.options:
            if option.option == "--trusted-host":
                yield finding("RL110", f"--trusted-host {option.value} turns off TLS verification for that host", location=option.origin, option=option.option)
            elif option.option in _INDEX_OPTIONS and option.value.lower().startswith("http://"):
                yield finding("RL110", f"{option.option} {option.value} is fetched over plain HTTP", location=option.origin, option=option.option)
        for line in source.invalid:
            yield finding("RL111", f"cannot parse '{line.text}': {line.message}", location=line.origin, reason=line.message)
