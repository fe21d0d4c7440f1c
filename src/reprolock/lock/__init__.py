"""Locking: resolve inputs against an index into a frozen ``Lock``, and write it.

records -> target + provider (resolvelib) -> ``model.Lock`` -> ``writers``.
Nothing here prints; nothing here opens an HTTP connection itself (the index
client comes in as a ``PackageFinder``).
"""
