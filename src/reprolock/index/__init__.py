"""The package index: the only package that imports httpx (and only in ``client``)."""
