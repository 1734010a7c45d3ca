"""Sealed blocks of responses: the fast reading must always equal a full read of the table."""

from datetime import date

import numpy as np
import pytest
from sqlalchemy import create_engine, delete, func, select, text, update

from analysis import blocks, frame, indicators, warm
from analysis.models import ResponseBlock
from core.extensions import db
from core.models import LOCAL_OFFSET
from survey.integrity import exclude_response
from survey.models import CRITERIA, Response
from survey.response_insert import import_responses
from tests.analysis.test_frame_cache import HAND_EDITS, edit_by_hand

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK\n"
UNITS = ["26734", "26737", "26800"]


def add(count: int, day: int = 1) -> None:
    """Import count responses spread over three communes, with varied answers."""
    lines = []
    for i in range(count):
        answers = [str((i + k) % 6) if (i + k) % 7 else "" for k in range(len(CRITERIA))]
        channel = ("static", "paper", "presence")[i % 3]
        hk = "yes" if i % 11 == 0 else "no"
        when = f"2025-03-{day:02d} {8 + i % 9:02d}:{i % 60:02d}"
        lines.append(f"{UNITS[i % 3]},{when},{channel}," + ",".join(answers) + f",{hk}")
    import_responses((HEADER + "\n".join(lines) + "\n").encode())
    db.session.commit()


def same(a: frame.ResponseFrame, b: frame.ResponseFrame) -> bool:
    """The same rows, and the same keys and runs derived from them (kept, or computed)."""
    return all(np.array_equal(getattr(a, name), getattr(b, name)) for name in frame.ARRAYS) and (
        np.array_equal(a.unit_day_keys, b.unit_day_keys)
        and all(map(np.array_equal, a.unit_runs, b.unit_runs))
    )


def block_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ResponseBlock))


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "SEAL_AT", 5)
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 8)


def test_encode_and_decode_round_trip():
    rng = np.random.default_rng(1)
    columns = {
        "id": np.arange(5, 10), "unit_id": rng.integers(1, 9, 5), "day": rng.integers(0, 9, 5),
        "channel": rng.integers(0, 4, 5), "questionnaire_id": np.ones(5),
        "packed": rng.integers(0, 256, (5, indicators.PACKED)).astype(np.uint8),
    }  # fmt: skip
    back = blocks.decode(blocks.encode(columns), 5)
    for name, dtype, shape in blocks.FIELDS:
        assert back[name].dtype == dtype and back[name].shape == (5, *shape)
        assert np.array_equal(back[name], columns[name])
    with pytest.raises(ValueError, match="4 responses"):
        blocks.decode(blocks.encode(columns), 4)


def test_reading_seals_blocks_and_equals_a_full_read(tree, questionnaire, small_blocks):
    add(20)
    first = frame.stored_frame()
    assert block_count() == 3  # 20 responses in blocks of at most 8
    assert same(first, frame.load_frame()) and len(first) == 20
    assert np.all(np.diff(first.unit_id) >= 0)  # a run per unit
    sealed = db.session.execute(select(ResponseBlock.first_id, ResponseBlock.last_id,
                                       ResponseBlock.count)).all()  # fmt: skip
    ids = db.session.scalars(select(Response.id).order_by(Response.id)).all()
    assert sorted(sealed) == [(ids[0], ids[7], 8), (ids[8], ids[15], 8), (ids[16], ids[19], 4)]

    add(3, day=2)  # a tail too short to seal
    assert same(frame.stored_frame(), frame.load_frame()) and block_count() == 3
    add(4, day=3)  # now 7 in the tail: sealed
    assert same(frame.stored_frame(), frame.load_frame()) and block_count() == 4


def test_a_period_and_exclusions_apply_to_the_blocks(tree, questionnaire, small_blocks,
                                                     make_user):  # fmt: skip
    add(12, day=1)
    add(12, day=9)
    frame.stored_frame()
    user = make_user("h@x.vn", "admin")
    for response in db.session.scalars(select(Response).where(Response.id % 5 == 0)):
        exclude_response(response, user, "thử nghiệm")
    db.session.commit()
    day = frame.day_number(date(2025, 3, 9))
    assert same(frame.stored_frame(day, day), frame.load_frame(day, day))
    assert len(frame.stored_frame(day, day)) < 12
    assert same(frame.stored_frame(), frame.load_frame())


def test_a_block_holds_its_ids_in_unit_day_id_order(tree, questionnaire, small_blocks):
    add(8, day=4)
    add(8, day=2)  # earlier days, higher ids: an id-ordered block would not be day-ordered
    frame.stored_frame()
    table = db.session.execute(
        select(Response.id, Response.unit_id, Response.submitted_at).order_by(Response.id)
    ).all()
    unit_of = {id_: unit for id_, unit, _ in table}
    date_of = {id_: (when + LOCAL_OFFSET).date() for id_, _, when in table}
    stored = db.session.execute(
        select(ResponseBlock.first_id, ResponseBlock.last_id, ResponseBlock.count,
               ResponseBlock.data).order_by(ResponseBlock.first_id)
    ).all()  # fmt: skip
    assert [count for _, _, count, _ in stored] == [8, 8]
    for first_id, last_id, count, data in stored:
        held = blocks.decode(data, count)
        ids = held["id"].tolist()
        assert sorted(ids) == [i for i in unit_of if first_id <= i <= last_id]
        expected = sorted(ids, key=lambda i: (unit_of[i], date_of[i], i))
        assert ids == expected and ids != sorted(ids)  # three units: not in id order
        assert held["unit_id"].tolist() == [unit_of[i] for i in ids]
        assert held["day"].tolist() == [frame.day_number(date_of[i]) for i in ids]


DAMAGE = ["deleted response", "other layout", "overlap", "block deleted", *HAND_EDITS]


@pytest.mark.parametrize("damage", DAMAGE)
def test_blocks_that_no_longer_match_are_sealed_again(tree, questionnaire, small_blocks, damage):
    add(20)
    frame.stored_frame()
    before = frame.load_frame()
    if damage in HAND_EDITS:
        edit_by_hand(damage)
        assert not same(frame.load_frame(), before)
    elif damage == "deleted response":
        first = db.session.scalar(select(func.min(Response.id)))
        db.session.execute(delete(Response).where(Response.id == first))
    elif damage == "block deleted":  # by hand: the responses it held would be missed
        middle = db.session.scalars(select(ResponseBlock.id).order_by(ResponseBlock.first_id))
        db.session.execute(delete(ResponseBlock).where(ResponseBlock.id == middle.all()[1]))
    elif damage == "other layout":
        db.session.execute(update(ResponseBlock).values(layout="0;old"))
    else:
        block = db.session.scalars(select(ResponseBlock).order_by(ResponseBlock.first_id)).first()
        db.session.add(ResponseBlock(first_id=block.first_id + 1, last_id=block.last_id,
                                     count=1, layout=blocks.LAYOUT, data=block.data))  # fmt: skip
    db.session.commit()
    assert same(frame.stored_frame(), frame.load_frame())
    rows = db.session.execute(select(ResponseBlock.count, ResponseBlock.layout)).all()
    assert sum(count for count, _ in rows) == db.session.scalar(
        select(func.count()).select_from(Response)
    )
    assert {layout for _, layout in rows} == {blocks.LAYOUT}


def test_blocks_sealed_again_while_read_are_not_mixed_up(tree, questionnaire, small_blocks,
                                                          monkeypatch):  # fmt: skip
    """SQLite reads a block's bytes by rowid after checking the blocks, and gives the rowids of
    deleted rows to new ones: another process sealing them again in between must not show."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's blob reading; PostgreSQL reads the blocks in one statement")
    add(20)
    frame.stored_frame()  # sealed as 8 + 8 + 4, rowids 1, 2, 3
    real, calls = blocks._read_into, []

    def another_process_seals_them_again_first(rowid, targets):
        if not calls:
            blocks._write(lambda conn: conn.execute(delete(ResponseBlock)))
            monkeypatch.setattr(blocks, "BLOCK_ROWS", 6)
            # 6 + 6 + 6 + 2, rowids from 1 again
            blocks._seal(frame.read_columns("1 = 1", {}), blocks.data_version())
        calls.append(rowid)
        return real(rowid, targets)

    monkeypatch.setattr(blocks, "_read_into", another_process_seals_them_again_first)
    assert same(frame.stored_frame(), frame.load_frame())
    assert len(calls) == 3 and block_count() == 4  # the three blocks checked were read


def test_reading_the_blocks_leaves_no_transaction_open(tree, questionnaire, small_blocks):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's read transaction around the blob reading")
    add(20)
    for _ in range(2):  # the first reading seals the blocks, the second reads them
        db.session.commit()
        frame.stored_frame()
        assert not db.session.connection().connection.driver_connection.in_transaction
    add(3, day=2)  # and a write after the reads goes through
    assert same(frame.stored_frame(), frame.load_frame())


def test_count_up_to_an_id_with_gaps_and_newer_responses(tree, questionnaire):
    add(12)
    ids = db.session.scalars(select(Response.id).order_by(Response.id)).all()
    gone = [ids[0], ids[5], ids[6], ids[11]]  # deleted by hand: the ids have gaps
    db.session.execute(delete(Response).where(Response.id.in_(gone)))
    db.session.commit()
    left = [i for i in ids if i not in gone]
    for last_id in [0, ids[0], ids[4], ids[5], ids[7], ids[10], ids[11], ids[11] + 50]:
        assert blocks.count_up_to(last_id) == sum(i <= last_id for i in left), last_id


def test_two_readers_sealing_the_same_responses_store_them_once(tree, questionnaire,
                                                                small_blocks):  # fmt: skip
    add(6)
    tail = frame.read_columns("1 = 1", {})
    version = blocks.data_version()
    blocks._seal(tail, version)
    blocks._seal(tail, version)  # the second reader loses the race on first_id: no error, no copy
    assert block_count() == 1
    assert same(frame.stored_frame(), frame.load_frame())


def test_a_writer_holding_the_lock_only_delays_sealing(app, tree, questionnaire, small_blocks):
    add(6)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(url)
    other = engine.connect()
    try:
        if url.startswith("sqlite"):
            other.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's one writer lock
        else:
            other.exec_driver_sql("LOCK TABLE response_block IN EXCLUSIVE MODE")
        assert same(frame.stored_frame(), frame.load_frame())
        assert block_count() == 0
    finally:
        other.rollback()
        other.close()
        engine.dispose()
    assert same(frame.stored_frame(), frame.load_frame()) and block_count() == 1


def test_the_cached_frame_starts_from_the_blocks(tree, questionnaire, small_blocks,
                                                 monkeypatch):  # fmt: skip
    add(10)
    frame.stored_frame()
    reads = []
    real = frame.read_columns
    monkeypatch.setattr(frame, "read_columns", lambda *a: reads.append(a) or real(*a))
    cached = warm.cached_frame()
    last = db.session.scalar(select(func.max(Response.id)))
    assert [params for _, params in reads] == [{"after": last}]  # only the (empty) tail
    assert same(cached, frame.load_frame())


def test_the_seal_command(runner, tree, questionnaire, small_blocks):
    add(12)
    result = runner.invoke(args=["analysis", "seal"])
    assert result.exit_code == 0, result.output
    assert "12 of 12 responses in 2 sealed blocks; the other 0 are read" in result.output
    add(3, day=2)
    result = runner.invoke(args=["analysis", "seal"])
    assert "12 of 15 responses in 2 sealed blocks; the other 3 are read from the response " \
           "table (fewer than 5 are not sealed)." in result.output  # fmt: skip


def import_file(runner, tmp_path, count: int, day: int):
    lines = [f"{UNITS[i % 3]},2025-03-{day:02d} 09:{i % 60:02d},paper," + ",".join(["4"] * 19)
             + ",no" for i in range(count)]  # fmt: skip
    path = tmp_path / f"day{day}.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return runner.invoke(args=["responses", "import", str(path)])


def test_the_import_command_seals_what_it_imported(runner, tmp_path, tree, questionnaire,
                                                   small_blocks):  # fmt: skip
    result = import_file(runner, tmp_path, 12, day=1)
    assert result.exit_code == 0, result.output
    assert blocks.status() == (12, 2)  # 8 + 4: no analysis has read them yet
    assert same(frame.stored_frame(), frame.load_frame())
    result = import_file(runner, tmp_path, 3, day=2)  # fewer than SEAL_AT: left in the table
    assert result.exit_code == 0, result.output
    assert blocks.status() == (12, 2)
    assert import_file(runner, tmp_path, 6, day=3).exit_code == 0  # the 3 and the 6 sealed
    assert blocks.status() == (21, 4)
    assert same(frame.stored_frame(), frame.load_frame())


def test_an_import_that_cannot_be_sealed_still_succeeds(runner, tmp_path, tree, questionnaire,
                                                        small_blocks, caplog):  # fmt: skip
    db.session.execute(text("DROP TABLE response_block"))  # a database one migration behind
    db.session.commit()
    try:
        result = import_file(runner, tmp_path, 12, day=1)
    finally:
        db.session.rollback()
        ResponseBlock.__table__.create(db.engine)
    assert result.exit_code == 0, result.output
    assert "Imported 12 responses" in result.output
    assert "not sealed" in caplog.text
    assert db.session.scalar(select(func.count()).select_from(Response)) == 12
    assert blocks.status() == (0, 0)


def test_new_responses_are_inserted_in_place_in_the_cached_frame(tree, questionnaire):
    add(10, day=5)
    warm.cached_frame()
    add(7, day=5)  # the same units and days as rows already held: after them, by id
    add(4, day=1)  # earlier days: before them
    appended = warm.cached_frame()
    assert len(appended) == 21
    assert same(appended, frame.load_frame())
