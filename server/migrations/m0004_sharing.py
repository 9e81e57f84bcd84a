"""Sharing a dataset with a role or a person, read-only or with edit rights."""

STATEMENTS = [
    """CREATE TABLE dataset_share (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        user_id INTEGER REFERENCES user (id),
        role_id INTEGER REFERENCES role (id) ON DELETE CASCADE,
        can_edit INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        CHECK ((user_id IS NULL) != (role_id IS NULL))
    )""",
    "CREATE UNIQUE INDEX dataset_share_user ON dataset_share (dataset_id, user_id)"
    " WHERE user_id IS NOT NULL",
    "CREATE UNIQUE INDEX dataset_share_role ON dataset_share (dataset_id, role_id)"
    " WHERE role_id IS NOT NULL",
    "CREATE INDEX dataset_share_to_user ON dataset_share (user_id)",
    "CREATE INDEX dataset_share_to_role ON dataset_share (role_id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
