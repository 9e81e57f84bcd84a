"""Make the audit log append-only inside SQLite itself, not just in the app's code."""

STATEMENTS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
