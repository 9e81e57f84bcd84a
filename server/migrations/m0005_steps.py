"""The history of cleaning steps applied to a dataset, each one undoable."""

STATEMENTS = [
    """CREATE TABLE dataset_step (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES user (id),
        kind TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '',
        rows_changed INTEGER NOT NULL DEFAULT 0,
        previous_key TEXT NOT NULL,
        previous_columns TEXT NOT NULL,
        previous_row_count INTEGER NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX dataset_step_dataset ON dataset_step (dataset_id, id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
