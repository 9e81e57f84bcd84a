"""Administration: the audit log (settings and backups join it in later issues)."""
