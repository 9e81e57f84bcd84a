"""Saved views: a named view of a dataset (filters, search, sort, columns), personal or shared
with everyone who may read the dataset. It goes with the dataset and with its author; a
person has one view of a name per dataset (case and spacing aside)."""

STATEMENTS = [
    """CREATE TABLE saved_view (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        owner_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        shared INTEGER NOT NULL DEFAULT 0,
        spec TEXT NOT NULL,
        dataset_version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX saved_view_name ON saved_view (dataset_id, owner_id, name_key)",
    "CREATE INDEX saved_view_owner ON saved_view (owner_id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
