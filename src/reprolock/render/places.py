"""Where in a container image a finding's file is, as the people-facing reports show it.

An image's findings carry ``detail.image`` (see ``commands/imaging.py``):
the path inside the image and the layer that brought the file in (its
digest and the Dockerfile instruction of the image's history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reprolock.findings import Finding

DIGEST_CHARS = 12
"""The digest is shown as ``sha256:`` and its first characters, as docker shows image ids."""


def image_place(item: Finding) -> str | None:
    """``layer 3 sha256:65aeb09185a6 (RUN pip install ...): /usr/local/lib/...``; ``None`` for a finding not about an image."""
    image = item.detail.get("image")
    if not isinstance(image, dict):
        return None
    parts = []
    layer = image.get("layer")
    if isinstance(layer, dict):
        algorithm, _, value = str(layer.get("digest") or "").partition(":")
        text = f"layer {layer.get('index')}" + (f" {algorithm}:{value[:DIGEST_CHARS]}" if value else "")
        parts.append(text + (f" ({layer['created_by']})" if layer.get("created_by") else ""))
    if image.get("path"):
        parts.append(str(image["path"]))
    return ": ".join(parts) or None
