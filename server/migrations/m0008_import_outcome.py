"""What an import did with the values that did not fit, per column (faithful import): how many
did not fit, how many were read as empty, how many were Excel error cells, and what became of
them. The result page shows it, with a link to each column's flagged values."""


def apply(db) -> None:
    db.execute_sql("ALTER TABLE import_job ADD COLUMN outcome TEXT NOT NULL DEFAULT '{}'")
