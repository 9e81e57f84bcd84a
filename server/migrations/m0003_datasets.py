"""Datasets (each one's rows live in a file of their own), imports and their problems."""

STATEMENTS = [
    """CREATE TABLE dataset (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        owner_id INTEGER NOT NULL REFERENCES user (id),
        storage_key TEXT NOT NULL UNIQUE,
        row_count INTEGER NOT NULL DEFAULT 0,
        columns TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX dataset_owner ON dataset (owner_id)",
    """CREATE TABLE import_job (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id),
        file_name TEXT NOT NULL,
        file_size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        original_key TEXT NOT NULL,
        options TEXT NOT NULL DEFAULT '{}',
        mode TEXT NOT NULL DEFAULT 'new',
        target_id INTEGER REFERENCES dataset (id) ON DELETE SET NULL,
        dataset_id INTEGER REFERENCES dataset (id) ON DELETE SET NULL,
        status TEXT NOT NULL DEFAULT 'ready',
        rows INTEGER NOT NULL DEFAULT 0,
        problem_count INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        warnings TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    )""",
    "CREATE INDEX import_job_user ON import_job (user_id, created_at)",
    "CREATE INDEX import_job_sha256 ON import_job (sha256)",
    """CREATE TABLE import_problem (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES import_job (id) ON DELETE CASCADE,
        row INTEGER NOT NULL,
        column_label TEXT NOT NULL DEFAULT '',
        value TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL
    )""",
    "CREATE INDEX import_problem_import ON import_problem (import_id, row)",
]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
