"""reprolock: make Python dependency sets reproducible and auditable."""

__version__ = "0.1.0"
