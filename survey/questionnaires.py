"""Questionnaire versions: a file checked and loaded as a new version when it changed, the
current version, and the copy the citizen's form reads on every answer."""

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from core.extensions import db
from survey.integrity import read_columns
from survey.models import CRITERIA, ELEMENTS, Questionnaire

DEFAULT_QUESTIONNAIRE = Path(__file__).with_name("questionnaire.json")
LANGS = ("vi", "en")


class QuestionnaireError(ValueError):
    """The questionnaire file is not usable."""


def _check_texts(texts, where: str) -> None:
    if not isinstance(texts, dict) or any(
        not isinstance(texts.get(lang), str) or not texts[lang].strip() for lang in LANGS
    ):
        raise QuestionnaireError(f"{where}: needs non-empty texts in {' and '.join(LANGS)}")


def _objects(value, what: str) -> list[dict]:
    """Return value if it is a list of JSON objects; raise QuestionnaireError otherwise."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise QuestionnaireError(f"{what} must be a list of objects")
    return value


def validate_questionnaire(data: dict) -> None:
    """Raise QuestionnaireError unless data is a well-formed questionnaire."""
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise QuestionnaireError("the file needs a list of elements")
    _check_texts(data.get("title"), "title")
    _check_texts(data.get("household_register"), "household_register")
    if not data["elements"]:
        raise QuestionnaireError("the file needs at least one element")
    seen = set()
    for element in _objects(data["elements"], "elements"):
        code = element.get("code")
        if code not in ELEMENTS:
            raise QuestionnaireError(
                f"unknown element {code!r}: elements are {', '.join(ELEMENTS)}"
            )
        _check_texts(element.get("title"), f"element {code}")
        criteria = element.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            raise QuestionnaireError(f"element {code} has no criteria")
        for criterion in _objects(criteria, f"the criteria of element {code}"):
            ccode = criterion.get("code")
            if ccode not in CRITERIA or not ccode.startswith(code):
                raise QuestionnaireError(f"criterion {ccode!r} does not belong to element {code}")
            if ccode in seen:
                raise QuestionnaireError(f"criterion {ccode} appears twice")
            seen.add(ccode)
            _check_texts(criterion.get("text"), f"criterion {ccode}")
    procedures = _objects(data.get("procedures", []), "procedures")
    procedure_codes = [p.get("code") for p in procedures]
    if len(set(procedure_codes)) != len(procedure_codes) or not all(procedure_codes):
        raise QuestionnaireError("procedure codes must be present and unique")
    for procedure in procedures:
        _check_texts(procedure.get("text"), f"procedure {procedure['code']}")


def load_questionnaire(path: Path = DEFAULT_QUESTIONNAIRE) -> tuple[Questionnaire, bool]:
    """Make the file the current version; return it and whether a new version was made."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise QuestionnaireError(f"not a UTF-8 JSON file: {e}") from e
    validate_questionnaire(data)
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    checksum = hashlib.sha256(canonical.encode()).hexdigest()
    current = current_questionnaire()
    if current is not None and current.checksum == checksum:
        return current, False
    version = (current.version + 1) if current else 1
    questionnaire = Questionnaire(version=version, checksum=checksum, definition=canonical)
    db.session.add(questionnaire)
    db.session.flush()
    return questionnaire, True


def current_questionnaire() -> Questionnaire | None:
    return db.session.scalar(select(Questionnaire).order_by(Questionnaire.version.desc()).limit(1))


def procedure_problem(procedure) -> str | None:
    """Say, in English, why a receipt cannot be issued for the procedure code, or None: a code
    of the current questionnaire's list, as the back office offers them and the survey asks.
    Free text would show as typed where the pages name the procedure, and no analysis would
    group it with the others."""
    questionnaire = current_questionnaire()
    codes = [p["code"] for p in questionnaire.data.get("procedures", [])] if questionnaire else []
    if procedure in codes:
        return None
    if not codes:
        return "no procedure codes: the questionnaire is not loaded (questionnaire load)"
    return f"must be one of the questionnaire's procedure codes: {', '.join(codes)}"


_CURRENT_VERSION = (
    select(Questionnaire.id, Questionnaire.version, Questionnaire.checksum)
    .order_by(Questionnaire.version.desc())
    .limit(1)
)
_questionnaire_copies: dict[tuple[int, int, str], Questionnaire] = {}


def survey_questionnaire() -> Questionnaire | None:
    """Return the current version for the citizen's form, read and parsed once per process.

    A version never changes once made, so each request only asks which one is current. The
    copy belongs to no session: every request shares it and only reads it.
    """
    current = read_columns(_CURRENT_VERSION).one_or_none()
    if current is None:
        return None
    key = tuple(current)
    copy = _questionnaire_copies.get(key)
    if copy is None:
        definition = db.session.scalar(
            select(Questionnaire.definition).where(Questionnaire.id == current.id)
        )
        copy = Questionnaire(
            id=current.id, version=current.version, checksum=current.checksum, definition=definition
        )
        copy.data  # noqa: B018 (parse it now, once)
        _questionnaire_copies[key] = copy
    return copy
