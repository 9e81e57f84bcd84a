"""Accounts, roles, role permissions, the audit log, and the three built-in roles."""

from datetime import UTC, datetime

STATEMENTS = [
    """CREATE TABLE role (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        builtin TEXT UNIQUE,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE role_permission (
        id INTEGER PRIMARY KEY,
        role_id INTEGER NOT NULL REFERENCES role (id) ON DELETE CASCADE,
        permission TEXT NOT NULL,
        UNIQUE (role_id, permission)
    )""",
    """CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL,
        login_key TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role_id INTEGER NOT NULL REFERENCES role (id),
        active INTEGER NOT NULL DEFAULT 1,
        must_change_password INTEGER NOT NULL DEFAULT 0,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        last_sign_in TEXT,
        session_version TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX user_role_id ON user (role_id)",
    """CREATE TABLE audit_event (
        id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        actor_id INTEGER REFERENCES user (id),
        actor_name TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        object_type TEXT NOT NULL DEFAULT '',
        object_id TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}',
        outcome TEXT NOT NULL DEFAULT 'ok',
        source TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX audit_event_time ON audit_event (time)",
    "CREATE INDEX audit_event_actor ON audit_event (actor_id, time)",
    "CREATE INDEX audit_event_action ON audit_event (action, time)",
]

BUILTIN_ROLES = [
    ("Admin", "admin", "Everything, including people, roles, settings, backups and the audit log."),
    ("Editor", "editor", "Imports, cleans, shares and exports datasets."),
    ("Viewer", "viewer", "Reads the datasets shared with them."),
]
EDITOR_PERMISSIONS = ["datasets.import", "datasets.export"]


def apply(db) -> None:
    for statement in STATEMENTS:
        db.execute_sql(statement)
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    for name, builtin, description in BUILTIN_ROLES:
        db.execute_sql(
            "INSERT INTO role (name, name_key, description, builtin, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (name, name.casefold(), description, builtin, now),
        )
    editor_id = db.execute_sql("SELECT id FROM role WHERE builtin = 'editor'").fetchone()[0]
    for permission in EDITOR_PERMISSIONS:
        db.execute_sql(
            "INSERT INTO role_permission (role_id, permission) VALUES (?, ?)",
            (editor_id, permission),
        )
