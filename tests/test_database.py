"""The database file: its PRAGMAs, and that old data folders open in the current Sheaf."""

import sqlite3

import pytest

from server import create_app
from server.db import database, open_database
from server.migrations import MigrationError, available, current_version, migrate
from server.models import AuditEvent, Role, User
from tests.helpers import FAST_HASHING, PASSWORD, make_app


def test_database_runs_in_wal_with_foreign_keys_and_full_sync(app):
    from server.db import database

    pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") >= 5000


def test_migrations_are_recorded(app):
    rows = (
        sqlite3.connect(app.config["DATABASE_PATH"])
        .execute("SELECT version, name FROM schema_version ORDER BY version")
        .fetchall()
    )
    assert [version for version, _ in rows] == [m.version for m in available()]
    assert rows[0] == (1, "accounts")


def test_a_folder_at_migration_1_opens_with_the_current_code(tmp_path):
    data = tmp_path / "old"
    data.mkdir()
    db = open_database(data / "sheaf.db")
    assert migrate(db, target=1) == [1]
    # Data written by that old version: an account and an audit event.
    from server.auth.passwords import make_hasher

    admin_role = db.execute_sql("SELECT id FROM role WHERE builtin = 'admin'").fetchone()[0]
    db.execute_sql(
        "INSERT INTO user (login, login_key, display_name, password_hash, role_id, session_version,"
        " created_at) VALUES ('old', 'old', 'Old Timer', ?, ?, 'v1', ?)",
        (make_hasher(1, 8, 1).hash(PASSWORD), admin_role, "2025-01-01T00:00:00.000000+00:00"),
    )
    db.execute_sql(
        "INSERT INTO audit_event (time, action) VALUES ('2025-01-01T00:00:00.000000+00:00', 'x')"
    )
    db.close()

    app = make_app(data)
    versions = [
        r[0]
        for r in sqlite3.connect(data / "sheaf.db").execute("SELECT version FROM schema_version")
    ]
    assert versions == [m.version for m in available()]
    assert User.get().display_name == "Old Timer" and AuditEvent.select().count() == 1
    assert app.test_client().sign_in("old").status_code == 302
    with pytest.raises(Exception, match="append-only"):  # migration 2 took effect
        AuditEvent.delete().execute()


def test_migrating_twice_changes_nothing(app):
    from server.db import database

    assert migrate(database) == []
    assert Role.select().count() == 3


def test_a_folder_from_a_newer_sheaf_is_refused_untouched(tmp_path):
    data = tmp_path / "new"
    create_app({"DATA_DIR": data, **FAST_HASHING})
    con = sqlite3.connect(data / "sheaf.db")
    con.execute("INSERT INTO schema_version VALUES (999, 'future', 'now')")
    con.commit()
    con.close()
    with pytest.raises(MigrationError, match="newer Sheaf"):
        create_app({"DATA_DIR": data, **FAST_HASHING})


def test_a_failing_migration_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    data = tmp_path / "d"
    data.mkdir()
    db = open_database(data / "sheaf.db")
    migrate(db, target=1)
    second = available()[1].module

    def broken(db):
        db.execute_sql("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(second, "apply", broken)
    with pytest.raises(RuntimeError):
        migrate(db)
    tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    assert db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1


def test_a_migration_that_rebuilds_a_parent_table_deletes_no_child(tmp_path, monkeypatch):
    """SQLite changes a column by rebuilding the table; with foreign keys on, dropping the old
    parent would cascade-delete every share, version and step of every dataset."""
    import types

    from server import migrations as migrations_package
    from tests.helpers import make_dataset, make_user

    app = make_app(tmp_path / "data")
    dataset = make_dataset(app, make_user("eddie", "editor"), "id\n1\n2\n", "Kept")
    from server.models import DatasetShare, DatasetVersion, Role

    DatasetShare.create(dataset=dataset, role=Role.get(Role.builtin == "viewer"))
    before = (DatasetShare.select().count(), DatasetVersion.select().count())

    def rebuild(db):  # the documented 12 steps, as a future migration would do them
        sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'dataset'").fetchone()[0]
        db.execute_sql(sql.replace("CREATE TABLE dataset", "CREATE TABLE dataset_new", 1))
        db.execute_sql("INSERT INTO dataset_new SELECT * FROM dataset")
        db.execute_sql("DROP TABLE dataset")
        db.execute_sql("ALTER TABLE dataset_new RENAME TO dataset")

    current = migrations_package.available()
    extra = migrations_package.Migration(
        len(current) + 1, "rebuild", types.SimpleNamespace(apply=rebuild)
    )
    monkeypatch.setattr(migrations_package, "available", lambda: [*current, extra])
    assert migrate(database) == [extra.version]
    assert (DatasetShare.select().count(), DatasetVersion.select().count()) == before
    assert database.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)


def test_a_migration_that_breaks_a_reference_is_undone(tmp_path, monkeypatch):
    import types

    from server import migrations as migrations_package
    from tests.helpers import make_dataset, make_user

    app = make_app(tmp_path / "data")
    make_dataset(app, make_user("eddie", "editor"), "id\n1\n", "Kept")
    current = migrations_package.available()
    extra = migrations_package.Migration(
        len(current) + 1,
        "orphans",
        types.SimpleNamespace(apply=lambda db: db.execute_sql("DELETE FROM dataset")),
    )
    monkeypatch.setattr(migrations_package, "available", lambda: [*current, extra])
    with pytest.raises(MigrationError, match="pointing at rows that do not exist"):
        migrate(database)
    assert database.execute_sql("SELECT count(*) FROM dataset").fetchone() == (1,)
    assert current_version(database) == len(current)


# --- the connection pool (server/db.py) --------------------------------------------------------


def test_a_request_gives_its_connection_back_for_the_next_one(app, people):
    """Two requests in turn are answered by one connection: SQLite does not read the schema
    and make the write-ahead log again for each request."""
    from server.auth.session import public

    seen = []

    @app.get("/_test/connection")
    @public
    def _connection() -> str:
        seen.append(database.connection())
        return "ok"

    client = app.test_client()
    client.get("/_test/connection")
    client.get("/_test/connection")
    assert len(seen) == 2 and seen[0] is seen[1]
    assert database.is_closed()  # given back: this thread holds none between requests


def test_a_transaction_left_open_is_rolled_back_when_the_connection_is_given_back(app):
    database.connect()
    before = User.select().count()
    lent = database.connection()
    database.execute_sql("BEGIN IMMEDIATE")  # outside Peewee's own bookkeeping
    database.execute_sql("DELETE FROM user")
    database.give_back()  # as a request ends
    other = sqlite3.connect(app.config["DATABASE_PATH"], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # no lock is left held
        other.rollback()
        assert other.execute("SELECT count(*) FROM user").fetchone()[0] == before
    finally:
        other.close()
    database.connect()
    assert database.connection() is lent  # kept for the next request
    assert User.select().count() == before
    database.give_back()


def test_a_close_outside_a_request_really_closes(app):
    """The command line, background threads and the build step close and then replace or
    delete the file: Windows refuses that while a pooled connection holds it."""
    with database.connection_context():
        used = database.connection()
    with pytest.raises(sqlite3.ProgrammingError):
        used.execute("SELECT 1")
    database.connect()
    assert database.connection() is not used
    database.close()


def test_pooled_connections_serve_one_thread_after_another(app, people):
    import threading

    counts, errors, lent = [], [], set()

    def read() -> None:
        try:
            for _ in range(20):
                database.connect()
                lent.add(id(database.connection()))
                counts.append(User.select().count())
                database.give_back()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts == [len(people)] * 80
    assert len(lent) <= 4  # at most one connection per thread at a time, each used again


def test_binding_another_database_closes_the_previous_ones_connections(app, tmp_path):
    database.connect()
    old = database.connection()
    database.give_back()
    old.execute("SELECT 1")  # idle in the pool, still open
    try:
        open_database(tmp_path / "other.db")
        with pytest.raises(sqlite3.ProgrammingError):
            old.execute("SELECT 1")  # closed: on Windows its file may now be replaced
    finally:
        open_database(app.config["DATABASE_PATH"])
