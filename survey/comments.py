"""What citizens wrote in the survey's comment, for the staff of their units: one query per page,
newest first, on the partial index of migration 0028 (responses with a comment only), searched
in the comments stored folded (migration 0029; on SQLite, in migration 0030's index)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, or_, select, text

from core.extensions import db
from core.folding import fold, folded
from core.models import Unit, local_day_start
from survey.models import (
    CRITERIA,
    UNFOLDED,
    Exclusion,
    Questionnaire,
    Response,
    SurveyPoint,
)

PER_PAGE = 50
SEARCH_MAX = 100  # characters: a search is a few words, never a page of text
HAS_COMMENT = and_(Response.comment.is_not(None), Response.comment != "")
_COLUMNS = [getattr(Response, c.lower()) for c in CRITERIA]
NEWEST_FIRST = (Response.submitted_at.desc(), Response.id.desc())


def like_pattern(search: str) -> str:
    """A LIKE pattern that finds the folded words anywhere, with % and _ taken literally."""
    escaped = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def unfolded_comments() -> bool:
    """Whether any comment is stored without its folded text (by a server of the release before
    0029, during a rolling upgrade), read in 0029's small partial index. SQLite is told to: once
    ANALYZE has run, its planner walks 0028's index of every comment for the question instead."""
    if db.session.get_bind().dialect.name == "sqlite":
        query = text(
            "SELECT id FROM response INDEXED BY ix_response_comment_unfolded "  # noqa: S608
            f"WHERE {UNFOLDED} LIMIT 1"
        )
    else:
        query = select(Response.id).where(text(UNFOLDED)).limit(1)
    return db.session.scalar(query) is not None


def search_clause(pattern: str, unfolded: bool):
    """The comments the pattern finds, by a LIKE on their stored folded text (on PostgreSQL
    with pg_trgm, on migration 0029's trigram index). Comments stored without it, where there
    are any, are folded in the query, as all were before."""
    stored = Response.comment_folded.like(pattern, escape="\\")
    if not unfolded:
        return stored
    unfolded_clause = and_(HAS_COMMENT, Response.comment_folded.is_(None))
    return or_(stored, and_(unfolded_clause, folded(Response.comment).like(pattern, escape="\\")))


@dataclass(frozen=True)
class CommentFilters:
    # The units in scope, or the one chosen and those under it; None: every unit (an
    # administrator's page, which would otherwise send the whole tree's ids with each query).
    unit_ids: list[int] | None
    since: date | None = None
    until: date | None = None
    dissatisfied: bool = False
    household_register: bool = False
    search: str = ""


def comments_query(filters: CommentFilters, offset: int = 0, limit: int = PER_PAGE + 1):
    """The responses with a comment that the filters ask for, newest first from the offset on,
    with what a line of the page shows beside them."""
    excluded = exists().where(Exclusion.response_id == Response.id, Exclusion.undone_at.is_(None))
    query = (
        select(Response, Unit.name, SurveyPoint.label, excluded.label("excluded"))
        .join(Unit, Unit.id == Response.unit_id)
        .outerjoin(SurveyPoint, SurveyPoint.id == Response.point_id)
        .order_by(*NEWEST_FIRST)
    )
    if not filters.search:
        return _filtered(query.where(HAS_COMMENT), filters).limit(limit).offset(offset)
    pattern = like_pattern(filters.search)
    unfolded = unfolded_comments()
    if unfolded or db.session.get_bind().dialect.name != "sqlite":
        query = _filtered(query.where(HAS_COMMENT), filters)
        return query.where(search_clause(pattern, unfolded)).limit(limit).offset(offset)
    # SQLite reads 0028's index for a search, and each comment's row for its folded text: all
    # of them when nothing matches. The page's responses are first chosen in migration 0030's
    # index, which holds the folded text and the unit, and whose rows all have a comment; then
    # those rows only, by id (no condition that would make 0028's index a choice again).
    ids = select(Response.id).where(
        Response.comment_folded.is_not(None), search_clause(pattern, unfolded=False)
    )
    # The unit as an expression (unit_id + 0), which no index serves: with ANALYZE's figures
    # the planner would read every response of a commune in ix_response_unit_time instead.
    ids = _filtered(ids, filters, unit=Response.unit_id + 0)
    ids = ids.order_by(*NEWEST_FIRST).limit(limit).offset(offset)
    return query.where(Response.id.in_(ids))


def _filtered(query, filters: CommentFilters, unit=Response.unit_id):
    """The query with the filters but the search."""
    if filters.unit_ids is not None:
        query = query.where(unit.in_(filters.unit_ids))
    if filters.since:
        query = query.where(Response.submitted_at >= local_day_start(filters.since))
    if filters.until:
        query = query.where(
            Response.submitted_at < local_day_start(filters.until + timedelta(days=1))
        )
    if filters.dissatisfied:
        query = query.where(or_(*(column.between(1, 2) for column in _COLUMNS)))
    if filters.household_register:
        query = query.where(Response.hk.is_(True))
    return query


@dataclass
class CommentPage:
    rows: list
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def comment_page(filters: CommentFilters, page: int) -> CommentPage:
    """One page of comments, one more row read to know whether an older page exists (no count
    of every comment in scope, which would read them all)."""
    rows = db.session.execute(comments_query(filters, offset=(page - 1) * PER_PAGE)).all()
    return CommentPage(rows=rows[:PER_PAGE], page=page, has_next=len(rows) > PER_PAGE)


@dataclass(frozen=True)
class Rating:
    good: int  # answers 4-5
    valid: int  # answers 1-5 (no opinion and blanks left out)
    lowest: int | None
    lowest_elements: str  # the elements with the lowest answer: "C, D"


def rating_of(response: Response) -> Rating:
    """How the citizen rated, in one line: share of 4-5 and the lowest answer."""
    answers = {c: getattr(response, c.lower()) for c in CRITERIA}
    valid = {c: v for c, v in answers.items() if v is not None and 1 <= v <= 5}
    lowest = min(valid.values(), default=None)
    return Rating(
        good=sum(1 for v in valid.values() if v >= 4),
        valid=len(valid),
        lowest=lowest,
        lowest_elements=", ".join(sorted({c[0] for c, v in valid.items() if v == lowest})),
    )


def procedure_names(rows) -> dict[tuple[int, str], str]:
    """The Vietnamese name of each procedure on the page, by (questionnaire, code)."""
    wanted = {(r.Response.questionnaire_id, r.Response.procedure) for r in rows}
    wanted = {w for w in wanted if w[1]}
    ids = {q for q, _code in wanted}
    names = {}
    for questionnaire in db.session.scalars(select(Questionnaire).where(Questionnaire.id.in_(ids))):
        for procedure in questionnaire.data.get("procedures", []):
            names[(questionnaire.id, procedure["code"])] = procedure["text"]["vi"]
    return names
