"""This release (CHANGELOG.md): in the footer, /healthz, `flask version` and the bundle's name."""

__version__ = "0.4.0"
