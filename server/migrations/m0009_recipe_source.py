"""Recipes remember the dataset they were saved from, for the dataset's Recipes page (the
dataset may be deleted later: the recipe stays, its source then unknown)."""


def apply(db) -> None:
    db.execute_sql(
        "ALTER TABLE recipe ADD COLUMN dataset_id INTEGER "
        "REFERENCES dataset (id) ON DELETE SET NULL"
    )
