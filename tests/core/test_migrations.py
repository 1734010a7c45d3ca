"""The schema comes from the migrations, and they match the models."""

import hashlib
import hmac
import os
import re
import subprocess
import sys
import unicodedata
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from core import ROOT, create_app
from core.extensions import MIGRATIONS, db, include_object
from core.models import User, email_key, user_for_session


def app_on_file(path):
    """An app on its own SQLite file, with no tables yet, and its command runner."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x"})
    return app, app.test_cli_runner()


@contextmanager
def downgraded_to(runner, revision: str):
    """The test database taken down to revision by `flask db downgrade`, and up to the newest
    again afterwards, whatever the test found."""
    db.session.remove()
    db.engine.dispose()  # no connection of the app may hold the tables while they change
    assert runner.invoke(args=["db", "downgrade", revision]).exit_code == 0
    try:
        yield
    finally:
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def index_names(table: str) -> set[str]:
    """The indexes the database has on the table now."""
    with db.engine.connect() as conn:
        return {i["name"] for i in inspect(conn).get_indexes(table)}


def plan(conn, query: str) -> str:
    """The database's plan for the query (on one table); PostgreSQL is asked to use an index if
    it can, which its planner would not for a table this small, on a copy of the table.

    An index built on a table whose updated rows some transaction may still see (a migration
    that fills a column, or an earlier test's rows) is not used by a snapshot older than the
    index (pg_index.indcheckxmin): on a busy server, a long transaction in any database keeps
    it out of every plan for as long as it lasts. A copy written in this transaction has no
    updated rows, so the same indexes built on it, from pg_get_indexdef(), are usable at once;
    it shadows the table (pg_temp comes first) until the plan is read."""
    if db.engine.dialect.name == "sqlite":
        return str(conn.execute(text(f"EXPLAIN QUERY PLAN {query}")).all())
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    name = re.search(r"\bFROM (\w+)", query).group(1)
    indexes = conn.execute(
        text("SELECT pg_get_indexdef(indexrelid), indisvalid FROM pg_index "
             "WHERE indrelid = CAST(:table AS regclass)"),
        {"table": f"public.{name}"},
    ).all()  # fmt: skip
    assert all(valid for _definition, valid in indexes)  # a copy would hide a failed build
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} AS TABLE public.{name}")
    try:
        for definition, _valid in indexes:
            conn.exec_driver_sql(definition.replace(f" ON public.{name} ", f" ON pg_temp.{name} "))
        return str(conn.execute(text(f"EXPLAIN {query}")).all())
    finally:
        conn.exec_driver_sql(f"DROP TABLE pg_temp.{name}")


def insert_cases(conn, column: str, rows: list[dict]) -> None:
    """Insert a commune and cases received 20/1/2025 there, each row giving id, code, state and
    its value of the column the migration under test reads."""
    conn.execute(text("INSERT INTO unit (id, code, name, level, path) "
                      "VALUES (1, '01', 'Phường Một', 'Phường', '/1/')"))  # fmt: skip
    case = ("INSERT INTO pakn_case (id, code, kind, topic, channel, content, state, "  # noqa: S608
            "received_unit_id, unit_id, received_at, received_on, counted_from, due_on, "
            f"{column}, updated_at, version) VALUES (:id, :code, 'report', 'delay', 'web', "
            "'x', :state, 1, 1, '2025-01-20 02:00:00', '2025-01-20', '2025-01-20', "
            f"'2025-02-03', :{column}, '2025-01-24 02:00:00', 1)")  # fmt: skip
    conn.execute(text(case), rows)


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_created_every_table(app):
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} == tables


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings; this run is on PostgreSQL")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_db_commands_run_from_the_cli_on_an_empty_database(tmp_path):
    """`flask db upgrade`, `current` and `downgrade base`: Flask-Migrate bound when first used."""
    app, runner = app_on_file(tmp_path / "fresh.db")
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert "migrate" not in app.extensions

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == heads[0]
        db.session.remove()

    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_commands_on_a_database_not_made_or_not_upgraded_say_to_upgrade_it(tmp_path):
    app, runner = app_on_file(tmp_path / "fresh.db")
    units = tmp_path / "units.csv"
    units.write_text("code,name,level,parent_code\n79,Thành phố Hồ Chí Minh,Tỉnh,\n")
    for args in (["points", "list"], ["units", "import", str(units)], ["analysis", "seal"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error: the database has no tables yet: run 'flask --app wsgi db upgrade'" in (
            result.output
        ), (args, result.output)

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert runner.invoke(args=["db", "upgrade", "0008"]).exit_code == 0
    csv = tmp_path / "responses.csv"
    csv.write_text("unit_code,submitted_at,channel,HK\n")
    result = runner.invoke(args=["responses", "import", str(csv)])  # reads imported_file (0009)
    assert result.exit_code == 1
    assert f"at migration 0008 and the code needs {head}" in result.output, result.output
    with app.app_context():
        db.engine.dispose()


def test_db_help_lists_the_migration_commands(app):
    result = app.test_cli_runner().invoke(args=["db", "--help"])
    assert result.exit_code == 0, result.output
    assert "upgrade" in result.output and "downgrade" in result.output


def test_starting_the_app_does_not_import_what_few_commands_need():
    """Every command and worker starts the app: Alembic (a third of a second) is for `flask db`
    and setup, Pillow for photos and posters, qrcode for QR codes, scipy for no command."""
    heavy = ("alembic", "flask_migrate", "PIL", "qrcode", "scipy", "openpyxl")
    code = f"import sys, wsgi; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_loading_the_app_leaves_the_collector_on_and_the_app_frozen():
    """wsgi.py turns the collector off while it imports the app (faster start-up), then on."""
    code = "import gc, wsgi; print(gc.isenabled(), gc.get_freeze_count() > 50_000)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True True"


def test_migrating_leaves_the_apps_loggers_on(tmp_path):
    """Alembic's env.py configures logging as `flask setup` migrates; the loggers the app made
    before (analysis.blocks warns when blocks are sealed again) must still be heard after."""
    code = (
        "import wsgi; from analysis import blocks; from core.extensions import upgrade_database; "
        "wsgi.app.app_context().push(); upgrade_database(); "
        "blocks.log.warning('still heard after the migrations')"
    )
    url = "sqlite:///" + str(tmp_path / "fresh.db")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "HAILONG_INSTANCE": str(tmp_path), "DATABASE_URL": url},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "still heard after the migrations" in done.stderr


def test_setup_migrates_an_empty_database_loads_the_demo_once(tmp_path):
    """`flask setup`, what `make run` calls: schema, questionnaire, demo; run again, no more."""
    from survey.models import Response

    url = "sqlite:///" + str(tmp_path / "setup.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x",
                      "PUBLIC_BASE_URL": "http://counter.test"})  # fmt: skip
    runner = app.test_cli_runner()
    with app.app_context():  # as `flask` pushes one for every command
        first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "Loaded the demo province." in first.output
    assert "http://counter.test/s/" in first.output
    with app.app_context():
        responses = db.session.query(Response).count()
        db.session.remove()
    assert responses > 100

    with app.app_context():
        again = runner.invoke(args=["setup"])
        assert again.exit_code == 0, again.output
        assert "demo not loaded" in again.output
        assert db.session.query(Response).count() == responses
        db.session.remove()
        db.engine.dispose()


def test_downgrading_below_pending_photos_is_refused_and_loses_none(tmp_path):
    from core.models import Unit
    from feedback import services
    from feedback.images import Photo
    from feedback.models import CasePhoto

    app, runner = app_on_file(tmp_path / "photos.db")
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        unit = Unit(code="01", name="Phường Một", level="Phường")
        db.session.add(unit)
        db.session.flush()
        photo = Photo(b"as sent", 4, 3, pending=True)
        services.create_case(
            unit, kind="report", topic="delay", content="Chờ lâu.", channel="web", photos=[photo]
        )
        db.session.commit()
    result = runner.invoke(args=["db", "downgrade", "0006"])
    assert result.exit_code != 0
    assert "1 photos are not re-encoded yet: run `flask --app wsgi feedback" in result.output
    with app.app_context():
        assert db.session.scalar(select(CasePhoto.data)) == b"as sent"
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        # Alembic gives SQLite a transaction per migration: those above the one that refused
        # are undone, it stays.
        assert version == "0007"
        db.session.remove()
        db.engine.dispose()


def test_the_response_version_migration_reseals_and_its_triggers_count(tmp_path):
    """0008: blocks sealed before the triggers are dropped; then any edit of a response counts,
    and downgrading leaves a database where the responses can still be edited."""
    from core.models import Unit
    from survey.models import Questionnaire

    app, runner = app_on_file(tmp_path / "version.db")
    assert runner.invoke(args=["db", "upgrade", "0007"]).exit_code == 0
    block = ("INSERT INTO response_block (first_id, last_id, count, layout, data, created_at) "
             "VALUES (1, 9, 9, 'x', x'00', '2026-01-01')")  # fmt: skip
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(block))
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.session.add_all([Unit(code="01", name="Phường Một", level="Phường"),
                            Questionnaire(version=1, checksum="c", definition="{}")])  # fmt: skip
        db.session.commit()
    response = ("INSERT INTO response (id, questionnaire_id, unit_id, submitted_at, channel, hk, "
                "flags) VALUES (:id, 1, 1, '2026-01-01', 'paper', 0, '')")  # fmt: skip

    def version(conn):
        return conn.execute(text("SELECT max(version) FROM response_version")).scalar()

    with app.app_context(), db.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM response_block")).scalar() == 0
        for id_ in (5, 6):  # appended: each the highest id
            conn.execute(text(response), {"id": id_})
        assert version(conn) is None
        conn.execute(text("UPDATE response SET comment = 'x', flags = 'burst'"))
        assert version(conn) is None  # nothing the figures read
        conn.execute(text("UPDATE response SET a1 = 4 WHERE id = 5"))
        assert version(conn) == 1
        conn.execute(text(response), {"id": 2})  # below the highest id: the readers count
        assert version(conn) == 1
        conn.execute(text("DELETE FROM response WHERE id IN (2, 6)"))
        assert version(conn) == 3  # a row at a time on SQLite
        conn.execute(text(block))  # sealing: no change to what is held
        assert version(conn) == 3
        conn.execute(text("UPDATE response_block SET count = 8"))
        assert version(conn) == 4
        conn.execute(text("DELETE FROM response_block"))  # the readers count what is held
        assert version(conn) == 4
    assert runner.invoke(args=["db", "downgrade", "0007"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE response SET a1 = 5"))
        conn.execute(text("DELETE FROM response"))
        assert "response_version" not in inspect(conn).get_table_names()
        columns = {c["name"] for c in inspect(conn).get_columns("response_block")}
        assert "data_version" not in columns
    with app.app_context():
        db.engine.dispose()


def test_the_publishing_deadline_migration_fills_answered_cases(tmp_path):
    """0010: a case answered before it gets its publishing due date, counted in working days
    from its answer with the declared days; one not answered gets none."""
    app, runner = app_on_file(tmp_path / "publish.db")
    assert runner.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        # Wednesday 5/2/2025 declared off.
        conn.execute(text("INSERT INTO pakn_declared_day (day, working, note, created_at) "
                          "VALUES ('2025-02-05', 0, '', '2025-01-01 00:00:00')"))  # fmt: skip
        insert_cases(conn, "answered_on", [
            {"id": 1, "code": "A1", "state": "answered", "answered_on": "2025-01-24"},
            {"id": 2, "code": "A2", "state": "in_progress", "answered_on": None},
        ])  # fmt: skip
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, publish_due_on FROM pakn_case ORDER BY id")).all()
        # From Friday 24/1, across Tết (27-31/1) and the declared 5/2: 3, 4, 6, 7, 10 February.
        assert rows == [(1, "2025-02-10"), (2, None)]
    assert runner.invoke(args=["db", "downgrade", "0009"]).exit_code == 0
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("pakn_case")}
        assert "publish_due_on" not in columns
        db.engine.dispose()


def test_the_ever_dissatisfied_migration_flags_the_cases_rated_no(tmp_path):
    """0011: a case rated "not satisfied" before keeps counting so; others do not."""
    app, runner = app_on_file(tmp_path / "rated.db")
    assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        insert_cases(conn, "satisfied", [
            {"id": id_, "code": f"A{id_}", "state": "answered", "satisfied": satisfied}
            for id_, satisfied in ((1, False), (2, True), (3, None))
        ])  # fmt: skip
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, ever_dissatisfied FROM pakn_case ORDER BY id")).all()
        assert rows == [(1, 1), (2, 0), (3, 0)]
    assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("pakn_case")}
        assert "ever_dissatisfied" not in columns
        db.engine.dispose()


def test_the_throttle_migration_keeps_the_counts_both_ways(tmp_path):
    """0012: PAKN's counters move to core's table, and back on downgrade, none lost."""
    app, runner = app_on_file(tmp_path / "throttle.db")
    assert runner.invoke(args=["db", "upgrade", "0011"]).exit_code == 0
    rows = [
        ("a" * 64, 3, "2026-01-01 10:00:00.000000"),
        ("b" * 64, 7, "2026-01-02 10:00:00.000000"),
    ]
    insert = text("INSERT INTO pakn_throttle (key, hits, expires_at) VALUES (:k, :h, :e)")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(insert, [{"k": k, "h": h, "e": e} for k, h, e in rows])

    def held(name):
        with app.app_context(), db.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            columns = [column("key"), column("hits"), column("expires_at")]
            found = conn.execute(select(*columns).select_from(table(name)).order_by("key")).all()
            db.engine.dispose()
        return tables, found

    assert runner.invoke(args=["db", "upgrade", "0012"]).exit_code == 0
    tables, found = held("throttle")
    assert "pakn_throttle" not in tables and found == rows
    assert runner.invoke(args=["db", "downgrade", "0011"]).exit_code == 0
    tables, found = held("pakn_throttle")
    assert "throttle" not in tables and found == rows


def test_the_lock_columns_migration_keeps_the_accounts(tmp_path):
    """0013: the accounts stay as they were, without the columns of the old per-account lock."""
    app, runner = app_on_file(tmp_path / "users.db")
    assert runner.invoke(args=["db", "upgrade", "0012"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO \"user\" (id, email, password_hash, role, active, "
                          "failed_logins, locked_until, created_at) VALUES (1, 'h@example.vn', "
                          "'scrypt:x', 'admin', 1, 3, '2026-01-01', '2026-01-01')"))  # fmt: skip

    def columns_and_emails():
        with app.app_context(), db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("user")}
            emails = conn.execute(text('SELECT email FROM "user"')).scalars().all()
            db.engine.dispose()
        return columns, emails

    assert runner.invoke(args=["db", "upgrade", "0013"]).exit_code == 0
    columns, emails = columns_and_emails()
    assert not {"failed_logins", "locked_until"} & columns and emails == ["h@example.vn"]
    assert runner.invoke(args=["db", "downgrade", "0012"]).exit_code == 0
    columns, emails = columns_and_emails()
    assert {"failed_logins", "locked_until"} <= columns and emails == ["h@example.vn"]


def test_the_api_key_unit_migration_keeps_the_keys_for_every_unit(tmp_path):
    """0014: a key made before works for every unit (no unit); the column goes again on
    downgrade, the keys staying, and a key cannot name a unit that does not exist."""
    from core.apikeys import Scope, check_key

    app, runner = app_on_file(tmp_path / "keys.db")
    assert runner.invoke(args=["db", "upgrade", "0013"]).exit_code == 0
    with app.app_context():
        key = "k" * 43
        digest = hashlib.sha256(key.encode()).hexdigest()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO api_key (id, name, scope, prefix, key_hash, "
                              "created_at) VALUES (1, 'Cổng DVC', 'receipts', :prefix, :hash, "
                              "'2026-01-01')"), {"prefix": key[:8], "hash": digest})  # fmt: skip
        db.engine.dispose()

    def columns_and_names():
        with app.app_context(), db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("api_key")}
            names = conn.execute(text("SELECT name FROM api_key")).scalars().all()
            db.engine.dispose()
        return columns, names

    assert runner.invoke(args=["db", "upgrade", "0014"]).exit_code == 0
    columns, names = columns_and_names()
    assert "unit_id" in columns and names == ["Cổng DVC"]
    with app.app_context():
        record = check_key(key, Scope.RECEIPTS)
        assert record is not None and record.unit is None
        # The foreign key holds on SQLite too.
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE api_key SET unit_id = 99"))
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0013"]).exit_code == 0
    columns, names = columns_and_names()
    assert "unit_id" not in columns and names == ["Cổng DVC"]


def test_the_mail_migration_gives_earlier_cases_the_default_language(tmp_path):
    """0015: cases sent before it read as sent in Vietnamese, with nothing waiting to be
    e-mailed; a downgrade drops the outbox and the column and keeps the cases."""
    app, runner = app_on_file(tmp_path / "mail.db")
    assert runner.invoke(args=["db", "upgrade", "0014"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        insert_cases(conn, "outcome", [
            {"id": 1, "code": "A1", "state": "received", "outcome": None},
            {"id": 2, "code": "A2", "state": "answered", "outcome": "competent"},
        ])  # fmt: skip
    assert runner.invoke(args=["db", "upgrade", "0015"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, locale FROM pakn_case ORDER BY id")).all()
        assert rows == [(1, "vi"), (2, "vi")]
        assert conn.scalar(text("SELECT count(*) FROM pakn_mail")) == 0
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0014"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert "locale" not in {c["name"] for c in inspect(conn).get_columns("pakn_case")}
        assert "pakn_mail" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT code FROM pakn_case ORDER BY id")).scalars().all() == [
            "A1",
            "A2",
        ]
        db.engine.dispose()


def test_the_published_answer_migration_keeps_what_the_public_read(tmp_path):
    """0016: a case published before keeps its answer on the public page, copied into the
    published answer; others get none. A downgrade, whose code publishes the citizen's answer,
    is refused while a published case shows another answer, and keeps everything then."""
    app, runner = app_on_file(tmp_path / "published.db")
    assert runner.invoke(args=["db", "upgrade", "0015"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        insert_cases(conn, "answer", [
            {"id": 1, "code": "A1", "state": "published", "answer": "Đã trả hồ sơ."},
            {"id": 2, "code": "A2", "state": "answered", "answer": "Kính gửi bà H: đã xong."},
            {"id": 3, "code": "A3", "state": "in_progress", "answer": None},
        ])  # fmt: skip
        conn.execute(text("UPDATE pakn_case SET public_summary = 'Chậm trả.', "
                          "published_at = '2025-01-25 02:00:00' WHERE id = 1"))  # fmt: skip
    assert runner.invoke(args=["db", "upgrade", "0016"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, published_answer FROM pakn_case ORDER BY id")).all()
        assert rows == [(1, "Đã trả hồ sơ."), (2, None), (3, None)]
        conn.execute(text("UPDATE pakn_case SET published_answer = 'Đã xong.' WHERE id = 1"))
        db.engine.dispose()

    result = runner.invoke(args=["db", "downgrade", "0015"])
    assert result.exit_code != 0
    assert "1 published cases show an answer other than the citizen's" in result.output
    with app.app_context(), db.engine.begin() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0016"
        assert conn.scalar(text("SELECT published_answer FROM pakn_case WHERE id = 1")) == (
            "Đã xong."
        )
        conn.execute(text("UPDATE pakn_case SET published_answer = answer WHERE id = 1"))
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0015"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert "published_answer" not in {c["name"] for c in inspect(conn).get_columns("pakn_case")}
        assert conn.execute(text("SELECT answer FROM pakn_case ORDER BY id")).scalars().all() == [
            "Đã trả hồ sơ.", "Kính gửi bà H: đã xong.", None]  # fmt: skip
        db.engine.dispose()


def test_the_staff_digest_migration_makes_one_row_per_account_and_day(tmp_path):
    """0018: the table of digests sent, one per account and day; a downgrade drops it and keeps
    the accounts."""
    app, runner = app_on_file(tmp_path / "digest.db")
    assert runner.invoke(args=["db", "upgrade", "0017"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        assert "staff_digest" not in inspect(conn).get_table_names()
        account = ("INSERT INTO user (id, email, password_hash, role, active, created_at) "
                   "VALUES (1, 'h@x.vn', 'x', 'handler', 1, '2026-03-01 00:00:00')")  # fmt: skip
        conn.execute(text(account))
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade", "0018"]).exit_code == 0
    row = ("INSERT INTO staff_digest (user_id, day, claimed_at, sent_at, cases) "
           "VALUES (1, :day, '2026-03-05 01:00:00', NULL, 3)")  # fmt: skip
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(row), {"day": "2026-03-05"})
            conn.execute(text(row), {"day": "2026-03-06"})  # another day
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(row), {"day": "2026-03-05"})  # the same account and day
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM staff_digest")) == 2
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0017"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert "staff_digest" not in inspect(conn).get_table_names()
        assert conn.scalar(text("SELECT email FROM user")) == "h@x.vn"
        db.engine.dispose()


def test_the_case_receipt_migration_links_cases_to_dossiers_and_back(tmp_path):
    """0017: cases received before name no dossier; a link must be to a receipt that exists; a
    downgrade drops the links and keeps the cases."""
    app, runner = app_on_file(tmp_path / "receipt.db")
    assert runner.invoke(args=["db", "upgrade", "0016"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        insert_cases(conn, "answer", [
            {"id": 1, "code": "A1", "state": "received", "answer": None},
            {"id": 2, "code": "A2", "state": "answered", "answer": "Đã trả hồ sơ."},
        ])  # fmt: skip
        conn.execute(text("INSERT INTO receipt_code (id, code, unit_id, created_at, expires_at) "
                          "VALUES (7, 'ABCD-EFGH-JKMN', 1, '2025-01-20 01:00:00', "
                          "'2025-02-20 01:00:00')"))  # fmt: skip
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade", "0017"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        assert conn.execute(text("SELECT receipt_id FROM pakn_case ORDER BY id")).all() == [
            (None,), (None,)]  # fmt: skip
        conn.execute(text("UPDATE pakn_case SET receipt_id = 7 WHERE id = 2"))
        indexes = {i["name"] for i in inspect(conn).get_indexes("pakn_case")}
        assert "ix_pakn_case_receipt_id" in indexes
    with app.app_context(), pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("UPDATE pakn_case SET receipt_id = 8 WHERE id = 1"))  # no such receipt
    with app.app_context():
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0016"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert "receipt_id" not in {c["name"] for c in inspect(conn).get_columns("pakn_case")}
        assert conn.execute(text("SELECT code, answer FROM pakn_case ORDER BY id")).all() == [
            ("A1", None), ("A2", "Đã trả hồ sơ.")]  # fmt: skip
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def user_columns_and_rows() -> tuple[set[str], list[dict]]:
    """The user table's columns and its rows by id, on a connection of its own."""
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("user")}
        rows = conn.execute(text('SELECT * FROM "user" ORDER BY id')).mappings().all()
    return columns, [dict(r) for r in rows]


def test_the_user_locale_migration_keeps_the_accounts_both_ways(app, runner):
    """0019, on this run's database (SQLite, or PostgreSQL with --db=postgres): accounts made
    before have chosen no language; a downgrade drops the column and keeps the accounts."""
    account = ("INSERT INTO \"user\" (id, email, password_hash, role, active, created_at) "
               "VALUES (1, 'h@x.vn', 'x', 'handler', true, '2026-03-01 00:00:00')")  # fmt: skip

    with downgraded_to(runner, "0018"):
        columns, _rows = user_columns_and_rows()
        assert "locale" not in columns
        with db.engine.begin() as conn:
            conn.execute(text(account))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0019"]).exit_code == 0
        columns, [row] = user_columns_and_rows()
        assert "locale" in columns and (row["email"], row["locale"]) == ("h@x.vn", None)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE \"user\" SET locale = 'en'"))
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0018"]).exit_code == 0
        columns, [row] = user_columns_and_rows()
        assert "locale" not in columns and row["email"] == "h@x.vn"
    assert db.session.scalar(select(text("locale")).select_from(text('"user"'))) is None


def test_the_user_sessions_migration_keeps_the_accounts_and_their_sessions(app, runner):
    """0020, on this run's database: accounts made before, and those a server of the release
    before still makes (naming none of the new columns), are at version 0, whose mark is the one
    their sessions carry, and were never signed in; a downgrade drops the columns and keeps them."""
    account = ("INSERT INTO \"user\" (id, email, password_hash, role, active, created_at) "
               "VALUES (:id, :email, 'x', 'handler', true, '2026-03-01 00:00:00')")  # fmt: skip
    old_mark = hmac.new(b"test-secret", b"x", hashlib.sha256).hexdigest()[:20]

    with downgraded_to(runner, "0019"):
        with db.engine.begin() as conn:
            conn.execute(text(account), {"id": 1, "email": "before@x.vn"})
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0020"]).exit_code == 0
        with db.engine.begin() as conn:
            conn.execute(text(account), {"id": 2, "email": "old-server@x.vn"})
        columns, rows = user_columns_and_rows()
        assert {"session_version", "last_login_at"} <= columns
        assert [(r["session_version"], r["last_login_at"]) for r in rows] == [(0, None)] * 2
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        # Read through the model, which needs the columns of every migration.
        assert user_for_session(f"1.{old_mark}").email == "before@x.vn"
        assert user_for_session(f"2.{old_mark}").email == "old-server@x.vn"
        db.session.remove()
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0019"]).exit_code == 0
        columns, rows = user_columns_and_rows()
        assert not {"session_version", "last_login_at"} & columns
        assert [r["email"] for r in rows] == ["before@x.vn", "old-server@x.vn"]
    assert db.session.get(User, 1).session_version == 0


def test_the_account_event_migration_adds_the_history_and_keeps_the_accounts(app, runner):
    """0021, on this run's database: the table comes empty, takes a line of an account's
    history (of the command line: no actor), and a downgrade drops it and keeps the accounts."""
    account = ("INSERT INTO \"user\" (id, email, password_hash, role, active, created_at) "
               "VALUES (1, 'h@x.vn', 'x', 'handler', true, '2026-03-01 00:00:00')")  # fmt: skip
    event = ("INSERT INTO account_event (user_id, actor_id, action, detail, at) "
             "VALUES (1, NULL, 'password', NULL, '2026-03-02 01:07:00')")  # fmt: skip

    def tables():
        with db.engine.connect() as conn:
            return set(inspect(conn).get_table_names())

    with downgraded_to(runner, "0020"):
        assert "account_event" not in tables()
        with db.engine.begin() as conn:
            conn.execute(text(account))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0021"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM account_event")).scalar() == 0
            conn.execute(text(event))
            with pytest.raises(IntegrityError), conn.begin_nested():  # no such account
                conn.execute(text(event.replace("VALUES (1,", "VALUES (2,")))
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("account_event")}
        assert "ix_account_event_user_id" in indexes
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0020"]).exit_code == 0
        assert "account_event" not in tables()
        with db.engine.connect() as conn:
            assert conn.execute(text('SELECT email FROM "user"')).scalars().all() == ["h@x.vn"]


def test_the_email_key_migration_fills_the_keys_and_refuses_a_second_spelling(app, runner):
    """0022, on this run's database: each account made before gets its address folded as the
    model folds it; the key is unique and required, as the model's is; a downgrade drops it and
    keeps the accounts."""
    account = ("INSERT INTO \"user\" (id, email, password_hash, role, active, created_at) "
               "VALUES (:id, :email, 'x', 'handler', true, '2026-03-01 00:00:00')")  # fmt: skip
    made = ["NGUYỄN@ubnd.vn", "Chi.Tran@example.vn", "straße@x.de"]

    with downgraded_to(runner, "0021"):
        with db.engine.begin() as conn:
            conn.execute(text(account), [{"id": i, "email": e} for i, e in enumerate(made, 1)])
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0022"]).exit_code == 0
        columns, rows = user_columns_and_rows()
        assert [(r["email"], r["email_key"]) for r in rows] == [
            ("NGUYỄN@ubnd.vn", "nguyễn@ubnd.vn"),
            ("Chi.Tran@example.vn", "chi.tran@example.vn"),
            ("straße@x.de", "strasse@x.de"),
        ]
        assert all(r["email_key"] == email_key(r["email"]) for r in rows)
        keyed = ("INSERT INTO \"user\" (id, email, email_key, password_hash, role, active, "
                 "created_at) VALUES (:id, :email, :key, 'x', 'handler', true, "
                 "'2026-03-01 00:00:00')")  # fmt: skip
        with db.engine.connect() as conn:
            for email, key in (("nguyễn@ubnd.vn", "nguyễn@ubnd.vn"), ("new@x.vn", None)):
                with pytest.raises(IntegrityError), conn.begin():  # taken; no key
                    conn.execute(text(keyed), {"id": 9, "email": email, "key": key})
            with pytest.raises(IntegrityError), conn.begin():  # as an old server inserts
                conn.execute(text(account), {"id": 9, "email": "old-server@x.vn"})
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0021"]).exit_code == 0
        columns, rows = user_columns_and_rows()
        assert "email_key" not in columns and [r["email"] for r in rows] == made
        with db.engine.begin() as conn:  # the release before makes accounts again
            conn.execute(text(account), {"id": 4, "email": "old-server@x.vn"})
    assert db.session.get(User, 4).email_key == "old-server@x.vn"


def test_the_email_key_migration_stops_on_two_spellings_of_one_address(app, runner):
    """0022: two accounts whose addresses differ only in the case of an accented letter (SQLite
    let them be made) are named and left as they were, with the database at 0021; once one is
    given another address, the migration goes on."""
    account = ("INSERT INTO \"user\" (id, email, password_hash, role, active, created_at, "
               "last_login_at) VALUES (:id, :email, 'x', :role, true, '2026-03-01 00:00:00', "
               ":last)")  # fmt: skip
    made = [
        {"id": 1, "email": "NGUYỄN@x.vn", "role": "manager", "last": "2026-03-02 01:07:00"},
        {"id": 2, "email": "b@x.vn", "role": "handler", "last": None},
        {"id": 3, "email": "nguyễn@x.vn", "role": "handler", "last": None},
    ]

    def version():
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    db.session.remove()
    db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0021"]).exit_code == 0
    try:
        with db.engine.begin() as conn:
            conn.execute(text(account), made)
        _columns, before = user_columns_and_rows()
        db.engine.dispose()
        refused = runner.invoke(args=["db", "upgrade"])
        assert refused.exit_code == 1
        assert "migration 0022 changed nothing" in refused.output, refused.output
        assert "id 1\tNGUYỄN@x.vn\tmanager\tactive\tlast sign-in 2026-03-02 01:07 UTC" in (
            refused.output
        )
        assert "id 3\tnguyễn@x.vn\thandler\tactive\tlast sign-in never" in refused.output
        assert "b@x.vn" not in refused.output
        assert "UPDATE \"user\" SET email = 'new address' WHERE id = 3;" in refused.output
        columns, after = user_columns_and_rows()
        assert version() == "0021" and "email_key" not in columns and after == before
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("user")}
        assert "ix_user_email_key" not in indexes
        with db.engine.begin() as conn:  # as the message says
            conn.execute(text("UPDATE \"user\" SET email = 'nguyen.ha@x.vn' WHERE id = 3"))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        _columns, rows = user_columns_and_rows()
        assert [r["email_key"] for r in rows] == ["nguyễn@x.vn", "b@x.vn", "nguyen.ha@x.vn"]
    finally:
        db.engine.dispose()
        if version() != ScriptDirectory(str(MIGRATIONS)).get_current_head():
            with db.engine.begin() as conn:
                conn.execute(text('DELETE FROM "user"'))
            db.engine.dispose()
            assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_the_point_event_migration_invents_no_history_and_keeps_the_imports(app, runner):
    """0023, on this run's database: points and imported files made before get no history and
    no importer (None: the command line or before 0023); the table takes lines with or without
    an actor, each of an existing point; a downgrade drops the table and the column and keeps
    the points and the files."""
    rows = [
        "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Phường Một', 'Phường', "
        "'/1/')",
        "INSERT INTO \"user\" (id, email, email_key, password_hash, role, active, created_at) "
        "VALUES (1, 'm@x.vn', 'm@x.vn', 'x', 'manager', true, '2026-03-01 00:00:00')",
        "INSERT INTO survey_point (id, unit_id, label, token, secret, active, created_at) "
        "VALUES (1, 1, 'Quầy 1', 'tok', 's', true, '2026-03-01 00:00:00')",
        "INSERT INTO imported_file (id, sha256, name, responses, imported_at) "
        "VALUES (1, 'ab', 'cu.csv', 3, '2026-03-01 00:00:00')",
    ]  # fmt: skip
    event = ("INSERT INTO point_event (point_id, actor_id, action, detail, at) VALUES "
             "(:point, :actor, 'renamed', 'Quầy 1 → Quầy 2', '2026-03-02 01:07:00')")  # fmt: skip

    def tables_and_columns():
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("imported_file")}
            return set(inspect(conn).get_table_names()), columns

    def kept():
        with db.engine.connect() as conn:
            points = conn.execute(text("SELECT label FROM survey_point")).scalars().all()
            files = conn.execute(text("SELECT name FROM imported_file")).scalars().all()
        return points, files

    with downgraded_to(runner, "0022"):
        tables, columns = tables_and_columns()
        assert "point_event" not in tables and "imported_by_id" not in columns
        with db.engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0023"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM point_event")).scalar() == 0
            by = conn.execute(text("SELECT imported_by_id FROM imported_file")).scalars().all()
            assert by == [None]
            conn.execute(text(event), [{"point": 1, "actor": None}, {"point": 1, "actor": 1}])
            conn.execute(text("UPDATE imported_file SET imported_by_id = 1"))
            for wrong in ({"point": 2, "actor": None}, {"point": 1, "actor": 2}):
                with pytest.raises(IntegrityError), conn.begin_nested():  # no such point, account
                    conn.execute(text(event), wrong)
            with pytest.raises(IntegrityError), conn.begin_nested():  # no such account
                conn.execute(text("UPDATE imported_file SET imported_by_id = 2"))
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("point_event")}
        assert "ix_point_event_point_id" in indexes
        assert kept() == (["Quầy 1"], ["cu.csv"])
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0022"]).exit_code == 0
        tables, columns = tables_and_columns()
        assert "point_event" not in tables and "imported_by_id" not in columns
        assert kept() == (["Quầy 1"], ["cu.csv"])


def test_the_unit_event_migration_invents_no_history_and_keeps_the_receipts(app, runner):
    """0025, on this run's database: units made before get no history, and receipt codes
    issued before no issuer and no batch; the table takes lines with or without an actor, each
    of an existing unit, and the codes an account or a key that exists; a downgrade drops the
    table, the columns and the index and keeps the units and the codes."""
    rows = [
        "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Phường Một', 'Phường', "
        "'/1/')",
        "INSERT INTO \"user\" (id, email, email_key, password_hash, role, active, created_at) "
        "VALUES (1, 'm@x.vn', 'm@x.vn', 'x', 'manager', true, '2026-03-01 00:00:00')",
        "INSERT INTO api_key (id, name, scope, prefix, key_hash, created_at) "
        "VALUES (1, 'Một cửa', 'receipts', 'abcdefgh', 'h', '2026-03-01 00:00:00')",
        "INSERT INTO receipt_code (id, code, unit_id, procedure, created_at, expires_at) "
        "VALUES (1, 'AAAA-BBBB-CCCC', 1, 'ho-tich', '2026-03-01 00:00:00', '2026-04-01 00:00:00')",
    ]  # fmt: skip
    event = ("INSERT INTO unit_event (unit_id, actor_id, action, detail, source, source_sha256, "
             "at) VALUES (:unit, :actor, 'changed', 'parent: 760 → 769', 'units.csv', "
             "'ab', '2026-03-02 01:07:00')")  # fmt: skip
    new_columns = {"issued_by_id", "issued_by_key_id", "batch"}

    def tables_and_columns():
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("receipt_code")}
            return set(inspect(conn).get_table_names()), columns

    def kept():
        with db.engine.connect() as conn:
            units = conn.execute(text("SELECT name FROM unit")).scalars().all()
            codes = conn.execute(text("SELECT code, procedure FROM receipt_code")).all()
        return units, [tuple(c) for c in codes]

    with downgraded_to(runner, "0024"):
        tables, columns = tables_and_columns()
        assert "unit_event" not in tables and not new_columns & columns
        with db.engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0025"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM unit_event")).scalar() == 0
            issued = conn.execute(text("SELECT issued_by_id, issued_by_key_id, batch "
                                       "FROM receipt_code")).all()  # fmt: skip
            assert [tuple(r) for r in issued] == [(None, None, None)]
            conn.execute(text(event), [{"unit": 1, "actor": None}, {"unit": 1, "actor": 1}])
            conn.execute(text("UPDATE receipt_code SET issued_by_id = 1, issued_by_key_id = 1, "
                              "batch = 'b'"))  # fmt: skip
            for wrong in ({"unit": 2, "actor": None}, {"unit": 1, "actor": 2}):
                with pytest.raises(IntegrityError), conn.begin_nested():  # no such unit, account
                    conn.execute(text(event), wrong)
            for column in ("issued_by_id", "issued_by_key_id"):
                with pytest.raises(IntegrityError), conn.begin_nested():  # no such account, key
                    conn.execute(text(f"UPDATE receipt_code SET {column} = 2"))  # noqa: S608
        assert "ix_unit_event_unit_id" in {
            i["name"] for i in inspect(db.engine).get_indexes("unit_event")
        }
        assert "ix_receipt_code_created_at" in {
            i["name"] for i in inspect(db.engine).get_indexes("receipt_code")
        }
        assert kept() == (["Phường Một"], [("AAAA-BBBB-CCCC", "ho-tich")])
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0024"]).exit_code == 0
        tables, columns = tables_and_columns()
        assert "unit_event" not in tables and not new_columns & columns
        assert "ix_receipt_code_created_at" not in {
            i["name"] for i in inspect(db.engine).get_indexes("receipt_code")
        }
        assert kept() == (["Phường Một"], [("AAAA-BBBB-CCCC", "ho-tich")])


def test_the_case_text_migration_takes_the_direction_controls_out_and_nothing_else(tmp_path):
    """0024: cases stored before the forms removed the characters that turn text around lose
    them in every column those forms now clean; accents typed as combining marks, other cases
    and other columns are left as they were."""
    rlo, pdf, lri, pdi = "\u202e", "\u202c", "\u2066", "\u2069"
    nfd = unicodedata.normalize("NFD", "Cán bộ hẹn ba lần")
    app, runner = app_on_file(tmp_path / "direction.db")
    assert runner.invoke(args=["db", "upgrade", "0023"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        insert_cases(conn, "answer", [
            {"id": 1, "code": "A1", "state": "answered", "answer": f"Gọi {rlo}0912{pdf} ạ."},
            {"id": 2, "code": "A2", "state": "answered", "answer": f"{nfd} {rlo}"},
            {"id": 3, "code": "A3", "state": "received", "answer": None},
        ])  # fmt: skip
        conn.execute(
            text("UPDATE pakn_case SET content = :c, forwarded_to = :f WHERE id = 1"),
            {"c": f"{nfd}, {lri}0912 345 678{pdi}.", "f": f"Sở {rlo}Xây dựng{pdf}"},
        )
        conn.execute(text("UPDATE pakn_case SET content = :c WHERE id = 3"), {"c": nfd})
        conn.execute(
            text(
                "INSERT INTO pakn_case_person (case_id, name, phone) "
                "VALUES (1, :n, :p), (3, 'Lê Văn C', '0912')"
            ),
            {"n": f"Lê Văn {rlo}C{pdf}", "p": f"\u202a0912 345 678{pdf}"},
        )
        conn.execute(text("INSERT INTO pakn_case_event (case_id, at, action, to_state, note) "
                          "VALUES (1, '2025-01-21 02:00:00', 'answer', 'answered', :n)"),
                     {"n": f"Đã gọi {rlo}0912{pdf}."})  # fmt: skip
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade", "0024"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        cases = conn.execute(text("SELECT id, content, answer, forwarded_to FROM pakn_case "
                                  "ORDER BY id")).all()  # fmt: skip
        assert [tuple(row) for row in cases] == [
            (1, f"{nfd}, 0912 345 678.", "Gọi 0912 ạ.", "Sở Xây dựng"),
            (2, "x", f"{nfd} ", None),
            (3, nfd, None, None),
        ]
        people = conn.execute(text("SELECT case_id, name, phone FROM pakn_case_person "
                                   "ORDER BY case_id")).all()  # fmt: skip
        assert [tuple(row) for row in people] == [
            (1, "Lê Văn C", "0912 345 678"),
            (3, "Lê Văn C", "0912"),
        ]
        assert conn.scalar(text("SELECT note FROM pakn_case_event")) == "Đã gọi 0912."
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0023"]).exit_code == 0


def test_the_password_reset_migration_adds_the_links_and_keeps_the_accounts(app, runner):
    """0026, on this run's database: the table comes empty, takes a link of an account (its
    token's hash unique, its account required), and a downgrade drops it and keeps the accounts."""
    account = ("INSERT INTO \"user\" (id, email, email_key, password_hash, role, active, "
               "created_at) VALUES (1, 'h@x.vn', 'h@x.vn', 'x', 'handler', true, "
               "'2026-03-01 00:00:00')")  # fmt: skip
    link = ("INSERT INTO password_reset (user_id, token_hash, mark, locale, created_at, "
            "expires_at, attempts) VALUES (:user, :hash, 'm', 'vi', '2026-03-02 01:00:00', "
            "'2026-03-02 01:30:00', 0)")  # fmt: skip

    def tables():
        with db.engine.connect() as conn:
            return set(inspect(conn).get_table_names())

    with downgraded_to(runner, "0025"):
        assert "password_reset" not in tables()
        with db.engine.begin() as conn:
            conn.execute(text(account))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0026"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM password_reset")).scalar() == 0
            conn.execute(text(link), {"user": 1, "hash": "a" * 64})
            for wrong in ({"user": 1, "hash": "a" * 64}, {"user": 2, "hash": "b" * 64}):
                with pytest.raises(IntegrityError), conn.begin_nested():  # taken; no account
                    conn.execute(text(link), wrong)
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("password_reset")}
        assert {"ix_password_reset_user_id", "ix_password_reset_next_attempt_at"} <= indexes
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0025"]).exit_code == 0
        assert "password_reset" not in tables()
        with db.engine.connect() as conn:
            assert conn.execute(text('SELECT email FROM "user"')).scalars().all() == ["h@x.vn"]


def test_the_imported_file_unit_migration_gives_old_files_their_importers_unit(app, runner):
    """0027, on this run's database: a file imported before takes its importer's unit (as the
    page read it until then); one of the command line, or of an administrator without a unit,
    none; the column holds only a unit; a downgrade drops it and keeps the files."""
    rows = [
        "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Quận Một', 'Quận', "
        "'/1/'), (2, '02', 'Phường Hai', 'Phường', '/1/2/')",
        "INSERT INTO \"user\" (id, email, email_key, password_hash, role, unit_id, active, "
        "created_at) VALUES (1, 'm@x.vn', 'm@x.vn', 'x', 'manager', 2, true, "
        "'2026-03-01 00:00:00'), (2, 'a@x.vn', 'a@x.vn', 'x', 'admin', NULL, true, "
        "'2026-03-01 00:00:00')",
        "INSERT INTO imported_file (id, sha256, name, responses, imported_at, imported_by_id) "
        "VALUES (1, 'ab', 'quan-ly.csv', 3, '2026-03-01 00:00:00', 1), "
        "(2, 'cd', 'quan-tri.csv', 4, '2026-03-02 00:00:00', 2), "
        "(3, 'ef', 'dong-lenh.csv', 5, '2026-03-03 00:00:00', NULL)",
    ]  # fmt: skip

    def columns():
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("imported_file")}

    def files():
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT name FROM imported_file ORDER BY id")).scalars().all()

    with downgraded_to(runner, "0026"):
        assert "importer_unit_id" not in columns()
        with db.engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql))
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0027"]).exit_code == 0
        with db.engine.begin() as conn:
            units = conn.execute(text("SELECT importer_unit_id FROM imported_file ORDER BY id"))
            assert units.scalars().all() == [2, None, None]
            with pytest.raises(IntegrityError), conn.begin_nested():  # no such unit
                conn.execute(text("UPDATE imported_file SET importer_unit_id = 9 WHERE id = 3"))
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0026"]).exit_code == 0
        assert "importer_unit_id" not in columns()
        assert files() == ["quan-ly.csv", "quan-tri.csv", "dong-lenh.csv"]


def test_the_response_comment_index_holds_the_responses_with_a_comment(app, runner):
    """0028, on this run's database: the comments page's query reads the new partial index (it
    is asked to on PostgreSQL, whose planner prefers reading a table this small whole); a
    downgrade drops the index and keeps the responses."""
    rows = [
        "INSERT INTO unit (id, code, name, level, path) VALUES (1, '01', 'Phường Một', "
        "'Phường', '/1/')",
        "INSERT INTO questionnaire (id, version, checksum, definition, created_at) "
        "VALUES (1, 1, 'x', '{}', '2026-03-01 00:00:00')",
        "INSERT INTO response (id, questionnaire_id, unit_id, submitted_at, channel, hk, comment, "
        "flags) VALUES (1, 1, 1, '2026-03-01 00:00:00', 'static', false, 'Chờ lâu', ''), "
        "(2, 1, 1, '2026-03-02 00:00:00', 'static', false, NULL, ''), "
        "(3, 1, 1, '2026-03-03 00:00:00', 'static', false, '', '')",
    ]  # fmt: skip
    page = ("SELECT id FROM response WHERE comment IS NOT NULL AND comment <> '' "
            "ORDER BY submitted_at DESC, id DESC LIMIT 51")  # fmt: skip

    with downgraded_to(runner, "0027"):
        assert "ix_response_comment_time" not in index_names("response")
        with db.engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql))
            assert "ix_response_comment_time" not in plan(conn, page)
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0028"]).exit_code == 0
        assert "ix_response_comment_time" in index_names("response")
        with db.engine.begin() as conn:
            assert "ix_response_comment_time" in plan(conn, page)
            assert conn.exec_driver_sql(page).scalars().all() == [1]
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0027"]).exit_code == 0
        assert "ix_response_comment_time" not in index_names("response")
        with db.engine.connect() as conn:
            ids = conn.execute(text("SELECT id FROM response ORDER BY id")).scalars().all()
            assert ids == [1, 2, 3]


def test_the_link_purpose_migration_makes_the_links_resets_and_a_downgrade_drops_invitations(
    app, runner
):
    """0031, on this run's database: the links made before it are resets, as are those a server
    of the release before makes during an upgrade (the server default); a downgrade deletes the
    invitations' links, keeps the resets' and the accounts with no password, which then match no
    password either."""
    accounts = ("INSERT INTO \"user\" (id, email, email_key, password_hash, role, active, "
                "created_at) VALUES (1, 'h@x.vn', 'h@x.vn', 'x', 'handler', true, "
                "'2026-03-01 00:00:00'), (2, 'n@x.vn', 'n@x.vn', '!no-password-yet', 'analyst', "
                "true, '2026-03-01 00:00:00')")  # fmt: skip
    old_link = ("INSERT INTO password_reset (user_id, token_hash, mark, locale, created_at, "
                "expires_at, attempts) VALUES (1, :hash, 'm', 'vi', '2026-03-02 01:00:00', "
                "'2026-03-02 01:30:00', 0)")  # fmt: skip
    invitation = ("INSERT INTO password_reset (user_id, token_hash, mark, locale, created_at, "
                  "expires_at, attempts, purpose) VALUES (2, :hash, 'm', 'en', "
                  "'2026-03-02 01:00:00', '2026-03-09 01:00:00', 0, 'invitation')")  # fmt: skip
    purposes = "SELECT token_hash, purpose FROM password_reset ORDER BY id"

    with downgraded_to(runner, "0030"):
        with db.engine.begin() as conn:
            conn.execute(text(accounts))
            conn.execute(text(old_link), {"hash": "a" * 64})
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0031"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text(purposes)).all() == [("a" * 64, "reset")]
            conn.execute(text(old_link), {"hash": "b" * 64})  # as the release before writes
            conn.execute(text(invitation), {"hash": "c" * 64})
            assert [p for _h, p in conn.execute(text(purposes))] == ["reset", "reset", "invitation"]
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0030"]).exit_code == 0
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT token_hash FROM password_reset ORDER BY id"))
            assert kept.scalars().all() == ["a" * 64, "b" * 64]
            users = conn.execute(text('SELECT email, password_hash FROM "user" ORDER BY id'))
            assert users.all() == [("h@x.vn", "x"), ("n@x.vn", "!no-password-yet")]
        # What the release before checks a password with: it matches none, and raises nothing.
        assert check_password_hash("!no-password-yet", "!no-password-yet") is False


def test_the_unit_closed_on_migration_leaves_every_unit_open_both_ways(app, runner):
    """0032, on this run's database: units from before exist (no closing day), the column takes
    a day, and a downgrade drops it and keeps the units."""

    def columns():
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("unit")}

    with downgraded_to(runner, "0031"):
        assert "closed_on" not in columns()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO unit (id, code, name, level, path) VALUES "
                              "(1, '760', 'Quận 1', 'Quận', '/1/')"))  # fmt: skip
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0032"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT closed_on FROM unit")).scalar() is None
            conn.execute(text("UPDATE unit SET closed_on = '2025-07-01'"))
            assert str(conn.execute(text("SELECT closed_on FROM unit")).scalar()) == "2025-07-01"
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0031"]).exit_code == 0
        assert "closed_on" not in columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM unit")).scalars().all() == ["760"]


def test_the_unit_merged_into_migration_names_no_successor_and_goes_back(app, runner):
    """0033, on this run's database: units from before merged into none, the column takes a
    unit, and a downgrade drops it and keeps the units."""

    def columns():
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("unit")}

    with downgraded_to(runner, "0032"):
        assert "merged_into_id" not in columns()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO unit (id, code, name, level, path, closed_on) VALUES "
                              "(1, '26734', 'Phường Bến Nghé', 'Phường', '/1/', '2025-07-01'), "
                              "(2, '26740', 'Phường Sài Gòn', 'Phường', '/2/', NULL)"))  # fmt: skip
        db.engine.dispose()
        assert runner.invoke(args=["db", "upgrade", "0033"]).exit_code == 0
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT merged_into_id FROM unit")).scalars().all() == [
                None,
                None,
            ]
            conn.execute(text("UPDATE unit SET merged_into_id = 2 WHERE id = 1"))
            keys = inspect(conn).get_foreign_keys("unit")
            assert [(k["constrained_columns"], k["referred_table"]) for k in keys
                    if k["constrained_columns"] == ["merged_into_id"]] == [
                (["merged_into_id"], "unit")
            ]  # fmt: skip
        db.engine.dispose()
        assert runner.invoke(args=["db", "downgrade", "0032"]).exit_code == 0
        assert "merged_into_id" not in columns()
        with db.engine.connect() as conn:
            codes = conn.execute(text("SELECT code FROM unit ORDER BY id")).scalars().all()
            assert codes == ["26734", "26740"]
