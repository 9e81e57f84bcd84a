"""Row rules remember the label their column had when they were made. A column's identifier
(c2, c9…) can come to name another column (a dropped column's identifier taken by a split's new
one, a recipe's columns in another order): a rule whose column no longer carries its label lets
nobody see any row, rather than narrowing on whatever column took the identifier. Existing
rules take their column's label now (none, and so no rows, if the column is gone)."""

STATEMENTS = [
    "ALTER TABLE row_rule ADD COLUMN label TEXT",
    """UPDATE row_rule SET label = (
        SELECT json_extract(c.value, '$.label')
        FROM dataset AS d, json_each(d.columns) AS c
        WHERE d.id = row_rule.dataset_id AND json_extract(c.value, '$.name') = row_rule."column"
    )""",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
