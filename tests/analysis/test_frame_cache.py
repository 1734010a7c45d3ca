"""The warm servers' response arrays: new responses are appended; exclusions and edits reload."""

import numpy as np
import pytest
from sqlalchemy import text

from analysis import frame, indicators, warm
from core.extensions import db
from survey.integrity import exclude_response
from survey.models import CRITERIA, Response
from survey.response_insert import import_responses

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK\n"


def add(rows: list[str]) -> None:
    import_responses((HEADER + "\n".join(rows) + "\n").encode())
    db.session.commit()


def line(unit, when, value, hk="no", channel="static"):
    return f"{unit},{when},{channel}," + ",".join([value] * len(CRITERIA)) + f",{hk}"


def same(a: frame.ResponseFrame, b: frame.ResponseFrame) -> bool:
    """The same rows, and the same keys and runs derived from them (kept, or computed)."""
    return all(np.array_equal(getattr(a, name), getattr(b, name)) for name in frame.ARRAYS) and (
        np.array_equal(a.unit_day_keys, b.unit_day_keys)
        and all(map(np.array_equal, a.unit_runs, b.unit_runs))
    )


def test_new_responses_are_appended_and_match_a_full_read(tree, questionnaire, monkeypatch):
    add([line("26734", "2025-03-01 09:00", "4"), line("26737", "2025-03-02 00:00", "2")])
    first = warm.cached_frame()
    assert len(first) == 2
    add([line("26800", "2025-03-03 10:00", "5", hk="yes", channel="paper")])

    reads = []
    real = frame.read_columns
    monkeypatch.setattr(frame, "read_columns", lambda *a: reads.append(a[1]) or real(*a))
    second = warm.cached_frame()
    last = max(r.id for r in db.session.scalars(db.select(Response)))
    assert reads == [{"after": last - 1}]  # only the new response
    assert len(second) == 3 and same(second, frame.load_frame())
    assert warm.cached_frame() is second  # nothing new: no read at all
    assert len(reads) == 2  # the load_frame() of the line above


def test_an_exclusion_reloads_everything(tree, questionnaire, make_user):
    add([line("26734", "2025-03-01 09:00", "4"), line("26734", "2025-03-01 10:00", "1")])
    assert len(warm.cached_frame()) == 2
    user = make_user("h@x.vn", "admin")
    exclude_response(db.session.scalars(db.select(Response)).first(), user, "thử nghiệm")
    db.session.commit()
    after = warm.cached_frame()
    assert len(after) == 1 and same(after, frame.load_frame())


def test_frames_are_in_unit_day_id_order_whatever_the_key_widths():
    # Days 0 and 70,000 and unit 70,001: keys wider than 16 bits sort as well.
    for units in ([9, 3, 9, 3, 3, 9], [9, 3, 9, 3, 3, 70_001]):
        for days in ([20_100, 20_100, 20_050, 20_200, 20_050, 20_100], [70_000, 0, 5, 0, 5, 1]):
            columns = {
                "id": np.arange(1, 7), "unit_id": np.array(units), "day": np.array(days),
                "channel": np.zeros(6), "questionnaire_id": np.arange(6),
                "packed": np.arange(6, dtype=np.uint8)[:, None].repeat(indicators.PACKED, 1),
            }  # fmt: skip
            f = frame.frame_of(columns)
            expected = sorted(range(6), key=lambda i: (units[i], days[i], i))
            assert f.questionnaire_id.tolist() == expected  # these carry the row number
            assert np.array_equal(f.packed, columns["packed"][expected])
            assert f.unit_day_keys.tolist() == sorted(f.unit_day_keys.tolist())


def test_sorted_runs_and_a_tail_in_id_order_make_one_unit_day_id_order():
    # Two sealed blocks (each in unit, day, id order), then newer rows in id order.
    rng = np.random.default_rng(7)
    parts, next_id = [], 1
    for size, sort in ((40, True), (40, True), (15, False)):
        unit, day = rng.integers(1, 5, size), rng.integers(20_000, 20_004, size)
        ids = np.arange(next_id, next_id + size)
        next_id += size
        order = np.lexsort((ids, day, unit)) if sort else np.arange(size)
        parts.append({"id": ids[order], "unit_id": unit[order], "day": day[order]})
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    byte = (columns["id"] % 256).astype(np.uint8)
    columns |= {"channel": np.zeros(len(byte), np.int8), "questionnaire_id": columns["id"],
                "packed": byte[:, None].repeat(indicators.PACKED, 1)}  # fmt: skip
    keep = columns["id"] % 7 != 0
    f = frame.frame_of(columns, keep)
    triples = sorted(zip(columns["unit_id"][keep].tolist(), columns["day"][keep].tolist(),
                         columns["id"][keep].tolist(), strict=True))  # fmt: skip
    assert list(zip(f.unit_id.tolist(), f.day.tolist(), f.questionnaire_id.tolist(),
                    strict=True)) == triples  # fmt: skip
    assert f.packed[:, 0].tolist() == [i % 256 for _, _, i in triples]


def test_a_response_arriving_during_a_read_is_held_once(tree, questionnaire, monkeypatch):
    add([line("26734", "2025-03-01 09:00", "4")])
    real = frame.read_after

    def read_after_one_more_came(last_id):
        add([line("26737", "2025-03-01 10:00", "2")])  # after the highest id was asked for
        monkeypatch.setattr(frame, "read_after", real)
        return real(last_id)

    monkeypatch.setattr(frame, "read_after", read_after_one_more_came)
    assert len(warm.cached_frame()) == 2
    assert len(warm.cached_frame()) == 2  # not read again as "new" and held twice
    assert same(warm.cached_frame(), frame.load_frame())


def test_a_response_committed_below_the_highest_id_is_found_by_the_recount(
    tree, questionnaire, monkeypatch
):
    add([line("26734", "2025-03-01 09:00", v) for v in "345"])
    ids = sorted(db.session.scalars(db.select(Response.id)))
    late = db.session.get(Response, ids[1])
    row = {c.name: getattr(late, c.name) for c in Response.__table__.columns}
    db.session.delete(late)
    db.session.commit()
    assert len(warm.cached_frame()) == 2
    # As on PostgreSQL when a transaction that took a lower id commits after a higher one.
    db.session.execute(db.insert(Response), [row])
    db.session.commit()
    assert len(warm.cached_frame()) == 2  # the highest id has not moved: not seen yet
    monkeypatch.setattr(warm, "RECOUNT_SECONDS", 0)
    assert len(warm.cached_frame()) == 3
    assert same(warm.cached_frame(), frame.load_frame())


# Another program's SQL, beside the app (psql, sqlite3): each changes what the figures read.
HAND_EDITS = {
    "answer": "UPDATE response SET a1 = 1, hk = NOT hk WHERE id = :first",
    "unit": "UPDATE response SET unit_id = (SELECT id FROM unit WHERE code = '26800') "
            "WHERE id = :first",
    "time": {"sqlite": "UPDATE response SET submitted_at = datetime(submitted_at, '-2 days') "
                       "WHERE id = :first",
             "postgresql": "UPDATE response SET submitted_at = submitted_at - interval '2 days' "
                           "WHERE id = :first"},
    # Deleting one and appending a copy of another keeps the count: only the version can tell.
    "deleted, another appended": "DELETE FROM response WHERE id = :second; "
                                 "INSERT INTO response ({columns}) SELECT {columns} "
                                 "FROM response WHERE id = :first",
}  # fmt: skip


def edit_by_hand(change: str) -> None:
    first, second = sorted(db.session.scalars(db.select(Response.id)))[:2]
    sql = HAND_EDITS[change]
    if isinstance(sql, dict):
        sql = sql[db.engine.dialect.name]
    copied = [c.name for c in Response.__table__.columns if c.name not in ("id", "submission_key")]
    with db.engine.begin() as conn:
        for statement in sql.format(columns=", ".join(copied)).split("; "):
            conn.execute(text(statement), {"first": first, "second": second})


@pytest.mark.parametrize("change", list(HAND_EDITS))
def test_a_change_by_hand_reaches_the_cached_frame(tree, questionnaire, change):
    add([line(unit, f"2025-03-0{day} 09:00", value) for unit, day, value in
         [("26734", 3, "3"), ("26734", 4, "4"), ("26737", 3, "5"), ("26737", 5, "2")]])  # fmt: skip
    before = warm.cached_frame()
    edit_by_hand(change)
    expected = frame.load_frame()
    assert not same(before, expected)
    assert same(warm.cached_frame(), expected)
