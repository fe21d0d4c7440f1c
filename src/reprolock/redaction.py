"""Find and hide credentials in URLs, and find ``${VAR}`` references.

Every text that comes from a user's file passes through :func:`redact` before
it is stored in a record, so a secret cannot reach a report, a log or a file.
"""

from __future__ import annotations

import re

MASK = "****"

# pip expands only this form (upper case, digits and underscores).
ENV_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@?#]+)@")
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&](?:access_token|private_token|token|api_key|apikey|password|passwd|secret|auth)=)"
    r"(?P<value>[^&#\s]+)",
    re.IGNORECASE,
)


def env_var_names(text: str) -> list[str]:
    """Names of the ``${VAR}`` references in ``text``, in order."""
    return [match.group("name") for match in ENV_VAR.finditer(text)]


def _is_secret_userinfo(scheme: str, userinfo: str) -> bool:
    literal = ENV_VAR.sub("", userinfo).replace(":", "")
    if not literal:
        return False  # only ${VAR} references: the recommended way
    # ``git+ssh://git@host`` names a login user, not a credential.
    return not ("ssh" in scheme.lower() and ":" not in userinfo)


def redact(text: str) -> tuple[str, int]:
    """Return ``text`` with credentials masked, and how many were masked."""
    count = 0

    def _userinfo(match: re.Match[str]) -> str:
        nonlocal count
        if not _is_secret_userinfo(match.group("scheme"), match.group("userinfo")):
            return match.group(0)
        count += 1
        return f"{match.group('scheme')}{MASK}@"

    def _query(match: re.Match[str]) -> str:
        nonlocal count
        if ENV_VAR.fullmatch(match.group("value")):
            return match.group(0)
        count += 1
        return f"{match.group('key')}{MASK}"

    if "@" in text:
        text = _USERINFO.sub(_userinfo, text)
    if "=" in text:
        text = _QUERY_SECRET.sub(_query, text)
    return text, count


def redacted(text: str) -> str:
    """``text`` with credentials masked."""
    return redact(text)[0]
