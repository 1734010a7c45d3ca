"""The PAKN unit chooser and the analysis table with 11,000 units of which 8,000 closed, against
the same tree with none closed: median page times (the closed units must not make them slower);
and with the closed communes merged into the new ones, the table of today's units.

Prepares a fresh SQLite database in a temporary folder: 34 provinces, 700 districts and
10,300 communes, and 3,000 new communes under the provinces; then the same tree with every
district and 7,300 communes closed (1/7/2025), as the 2025 merger did, each of those communes
merged into one of the new ones. Times in-process (Flask's test client).

    .venv/bin/python bench/closed_units.py --rounds 20
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import create_app  # noqa: E402
from core.extensions import db, upgrade_database  # noqa: E402
from core.models import Unit  # noqa: E402
from core.unit_tree import rebuild_paths  # noqa: E402


def build(closing: bool) -> None:
    provinces = [Unit(code=f"{p:02d}", name=f"Tỉnh {p}", level="Tỉnh") for p in range(1, 35)]
    db.session.add_all(provinces)
    districts, communes = [], []
    for d in range(700):
        district = Unit(
            code=f"{d:03d}d", name=f"Huyện {d}", level="Huyện", parent=provinces[d % 34]
        )
        districts.append(district)
        for c in range(15 if d < 500 else 14):
            communes.append(Unit(code=f"{d:03d}{c:02d}", name=f"Xã {d}-{c}", level="Xã",
                                 parent=district))  # fmt: skip
    db.session.add_all(districts + communes)
    new = [Unit(code=f"N{n}", name=f"Phường mới {n}", level="Phường", parent=provinces[n % 34])
           for n in range(3000)]  # fmt: skip
    db.session.add_all(new)
    if closing:  # the same tree, its districts and 7,300 of their communes closed
        for unit in districts + communes[:7300]:
            unit.closed_on = date(2025, 7, 1)
        for n, unit in enumerate(communes[:7300]):  # two or three into each new commune
            unit.merged_into = new[n % 3000]
    db.session.flush()
    rebuild_paths()
    db.session.commit()


def timed(client, url: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        assert client.get(url).status_code == 200, url
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for closing in (False, True):
        folder = tempfile.mkdtemp()
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                          "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})  # fmt: skip
        with app.app_context():
            upgrade_database()
            build(closing)
            count = db.session.query(Unit).count()
        client = app.test_client()
        label = "8,000 closed" if closing else "none closed"
        chooser = timed(client, "/pakn/units?parent=01", args.rounds)
        top = timed(client, "/pakn/units", args.rounds)
        print(
            f"{label}: {count} units; PAKN chooser, a province: {chooser:.1f} ms; "
            f"the provinces: {top:.1f} ms"
        )
        with app.app_context():
            from analysis.indexes import Query
            from analysis.tables import Request, build_rows

            for name, query in (
                ("Q3 2025", Query(date(2025, 7, 1), date(2025, 9, 30))),
                ("2024, today's units", Query(date(2024, 1, 1), date(2024, 12, 31),
                                              today_units=True)),
            ):  # fmt: skip
                times = []
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    rows = build_rows(Request(query, measures=("overall",)))[1]
                    times.append(time.perf_counter() - start)
                print(
                    f"{label}: analysis table, {name}: "
                    f"{statistics.median(times) * 1000:.1f} ms, {len(rows)} rows"
                )


if __name__ == "__main__":
    main()
