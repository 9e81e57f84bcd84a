"""Every change to a dataset is a version in one history (server.datasets.versions).

The cleaning steps of round one become versions where their files still show them: a step's
"after" file is the next step's "before" file, or the dataset's own file for the last one. An
append or replace of round one deleted the file before it, so steps older than the dataset's
last append or replace cannot be gone back to: such a history starts at that point, with a
version that says so. Undone steps of round one had their files deleted and are left out; the
audit log still lists them.
"""

import json

VERSION_TABLE = """CREATE TABLE dataset_version (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    user_id INTEGER REFERENCES user (id),
    created_at TEXT NOT NULL,
    rows_touched INTEGER NOT NULL DEFAULT 0,
    row_count INTEGER NOT NULL,
    columns TEXT NOT NULL,
    file_key TEXT NOT NULL,
    previous_file_key TEXT,
    whole_file INTEGER NOT NULL,
    reverts_id INTEGER REFERENCES dataset_version (id),
    UNIQUE (dataset_id, number)
)"""

ROW_CHANGE_TABLE = """CREATE TABLE row_change (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES dataset_version (id) ON DELETE CASCADE,
    row_id INTEGER NOT NULL,
    before TEXT,
    after TEXT
)"""

STATEMENTS = [
    VERSION_TABLE,
    ROW_CHANGE_TABLE,
    "CREATE INDEX row_change_version ON row_change (version_id)",
    "CREATE INDEX row_change_row ON row_change (row_id, version_id)",
    "ALTER TABLE dataset ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
]

# The step names of the version that wrote dataset_step (frozen here, as migrations are).
STEP_LABELS = {
    "trim": "Trim spaces",
    "case": "Change case",
    "replace": "Find and replace",
    "split": "Split a column",
    "cast": "Change a column's type",
    "fill": "Fill empty cells",
    "dedupe": "Remove duplicate rows",
    "delete_rows": "Delete the rows the filter shows",
    "rename": "Rename a column",
    "drop": "Drop a column",
}

INSERT = """INSERT INTO dataset_version (dataset_id, number, kind, summary, params, user_id,
    created_at, rows_touched, row_count, columns, file_key, previous_file_key, whole_file)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"""


def _history(db, dataset) -> list[tuple]:
    dataset_id, owner_id, storage_key, row_count, columns, created_at = dataset
    last_bulk = db.execute_sql(
        "SELECT max(finished_at) FROM import_job WHERE dataset_id = ? AND status = 'done' "
        "AND mode IN ('append', 'replace')",
        (dataset_id,),
    ).fetchone()[0]
    steps = db.execute_sql(
        "SELECT user_id, kind, params, summary, rows_changed, previous_key, previous_columns, "
        "previous_row_count, created_at FROM dataset_step "
        "WHERE dataset_id = ? AND undone = 0 AND (? IS NULL OR created_at > ?) ORDER BY id",
        (dataset_id, last_bulk, last_bulk),
    ).fetchall()
    if steps:
        first = steps[0]
        start = (first[5], first[7], first[6])
    else:
        start = (storage_key, row_count, columns)
    if last_bulk is None:
        opening = ("import", "Imported", owner_id, created_at)
    else:
        opening = ("start", "Versions kept from here on", None, last_bulk)
    versions = [
        (*opening[:2], "{}", opening[2], opening[3], start[1], start[1], start[2], start[0], None)
    ]
    for index, step in enumerate(steps):
        after = steps[index + 1] if index + 1 < len(steps) else None
        key, count, cols = (
            (after[5], after[7], after[6]) if after else (storage_key, row_count, columns)
        )
        words = f"{STEP_LABELS.get(step[1], step[1])}: {step[3]}"
        params = json.dumps({"step": step[1], "params": json.loads(step[2])}, ensure_ascii=False)
        versions.append(
            ("step", words, params, step[0], step[8], step[4], count, cols, key, step[5])
        )
    return versions


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
    datasets = db.execute_sql(
        "SELECT id, owner_id, storage_key, row_count, columns, created_at FROM dataset"
    ).fetchall()
    for dataset in datasets:
        versions = _history(db, dataset)
        for number, version in enumerate(versions, start=1):
            kind, summary, params, user_id, created_at, touched, count, cols, key, previous = (
                version
            )
            db.execute_sql(
                INSERT,
                (
                    dataset[0],
                    number,
                    kind,
                    summary,
                    params,
                    user_id,
                    created_at,
                    touched,
                    count,
                    cols,
                    key,
                    previous,
                ),
            )
        db.execute_sql("UPDATE dataset SET version = ? WHERE id = ?", (len(versions), dataset[0]))
    db.execute_sql("DROP TABLE dataset_step")  # its rows are versions now
