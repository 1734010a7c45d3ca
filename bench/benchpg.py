"""PostgreSQL for the benchmarks: check the URL, reach the server, empty the database, and the
CPU that the server's processes use (read in /proc, so only for a server on this machine).

A benchmark empties the database it is given (its public schema dropped), so it takes only a
database whose name starts with "bench", on this machine: never a user's data.
"""

from pathlib import Path

from benchlib import cpu_of
from sqlalchemy.engine import URL, make_url

LOCAL_HOSTS = (None, "", "127.0.0.1", "localhost", "::1")


def bench_url(text: str) -> URL:
    """The URL, checked: PostgreSQL, on this machine, a database named bench*; else exit."""
    try:
        url = make_url(text)
    except Exception as e:  # noqa: BLE001 - SQLAlchemy's parse errors are of several kinds
        raise SystemExit(f"--database-url: not a database URL ({e})") from None
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"--database-url must be postgresql://..., not {url.drivername}://")
    if url.host not in LOCAL_HOSTS:
        raise SystemExit(
            f"--database-url: {url.host} is not this machine; the benchmark talks only to "
            "127.0.0.1 (and reads the server's CPU in /proc)"
        )
    if not (url.database or "").startswith("bench"):
        raise SystemExit(
            f"--database-url names the database {url.database!r}: the benchmark empties the "
            "database it is given, so it takes only one whose name starts with 'bench' "
            "(createdb -h 127.0.0.1 -U postgres bench)"
        )
    return url


def app_url(url: URL) -> str:
    """The URL for the app (SQLAlchemy with psycopg 3)."""
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def conninfo(url: URL) -> str:
    """The URL for psycopg itself."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: URL):
    """An autocommit psycopg connection, or exit saying why the server cannot be reached."""
    import psycopg

    try:
        return psycopg.connect(conninfo(url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        shown = url.render_as_string(hide_password=True)
        raise SystemExit(f"cannot reach PostgreSQL at {shown}:\n{e}") from None


def empty(conn) -> None:
    """Drop and recreate the public schema (what the migrations build lives there)."""
    conn.execute("SET lock_timeout = '10s'")  # someone else connected: fail, do not hang
    conn.execute("DROP SCHEMA public CASCADE")
    conn.execute("CREATE SCHEMA public")


def facts(conn) -> str:
    """The server settings that the figures depend on most."""
    names = ("server_version", "fsync", "synchronous_commit", "shared_buffers")
    rows = dict(conn.execute(
        "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [list(names)]
    ).fetchall())  # fmt: skip
    return "PostgreSQL " + ", ".join(f"{n} {rows.get(n, '?')}" for n in names)


def server_cpu(conn) -> dict[str, dict[int, float]] | None:
    """CPU seconds so far of the server's processes, by pid: "backends" serve this database
    (not this connection), "background" is the rest of the server (checkpointer, WAL writer,
    autovacuum...), shared with every other database. Other databases' backends are left out.
    None when the processes are not readable here."""
    rows = conn.execute(
        "SELECT pid, backend_type = 'client backend' AND datname = current_database() "
        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND (backend_type <> 'client backend' OR datname = current_database())"
    ).fetchall()
    out: dict[str, dict[int, float]] = {"backends": {}, "background": {}}
    for pid, ours in rows:
        if not Path(f"/proc/{pid}/stat").exists():
            return None
        seconds = cpu_of(pid)
        if seconds is not None:
            out["backends" if ours else "background"][pid] = seconds
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process that started between them counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
