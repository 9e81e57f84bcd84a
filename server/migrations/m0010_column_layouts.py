"""Column layouts: how each person arranges a dataset's table (order, hidden columns, widths).

One row per person and dataset; it goes with the dataset. The layout is JSON that names
columns (c1, c2, …); names a later version of the dataset no longer has are ignored when read.
"""

STATEMENTS = [
    """CREATE TABLE column_layout (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        layout TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX column_layout_person ON column_layout (user_id, dataset_id)",
    "CREATE INDEX column_layout_dataset ON column_layout (dataset_id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
