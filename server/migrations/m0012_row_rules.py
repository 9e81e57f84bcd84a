"""Row rules: people (or everyone with a role) who see only the rows of a dataset whose column
holds a given value, one of some values, their user name or their display name. Several rules
for one person widen what they see; no rule means every row."""

STATEMENTS = [
    """CREATE TABLE row_rule (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
        role_id INTEGER REFERENCES role (id) ON DELETE CASCADE,
        user_id INTEGER REFERENCES user (id) ON DELETE CASCADE,
        "column" TEXT NOT NULL,
        kind TEXT NOT NULL,
        "values" TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        CHECK ((role_id IS NULL) != (user_id IS NULL))
    )""",
    "CREATE INDEX row_rule_dataset ON row_rule (dataset_id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
