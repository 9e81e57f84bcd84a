"""Sheaf's version, apart from the app factory so that any module can name it."""

__version__ = "0.1.0"
