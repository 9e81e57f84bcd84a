"""The one error of backups and restores."""

from __future__ import annotations


class BackupError(ValueError):
    """A backup that cannot be made, read or restored; the message is for the person."""
