"""The package index: the only package that talks HTTP (and only in ``client``)."""
