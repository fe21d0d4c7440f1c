"""Container images: their Python environments read from the files, nothing run.

:func:`~reprolock.sources.image.inspection.inspect_image` is the entry point:
an unpacked root filesystem, a ``docker save`` archive or an OCI image layout
(folder or archive) in, an
:class:`~reprolock.sources.image.model.ImageInspection` out: one
:class:`~reprolock.records.Environment` per interpreter, the same records the
probe path builds, plus where each file came from (layer, Dockerfile
instruction) and who installed each distribution.
"""
