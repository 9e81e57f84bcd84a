"""Recipes: a dataset's cleaning steps saved under a name, to replay on later imports."""

STATEMENTS = [
    """CREATE TABLE recipe (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        owner_id INTEGER NOT NULL REFERENCES user (id),
        columns TEXT NOT NULL,
        steps TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX recipe_owner ON recipe (owner_id)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
