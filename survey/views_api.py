"""API for other systems: issue receipt codes when a dossier is received."""

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request

from core.apikeys import Scope, check_key, presented_key
from core.extensions import csrf, db
from core.models import local_today
from core.unit_tree import unit_by_code
from survey import integrity, questionnaires

bp = Blueprint("survey_api", __name__, url_prefix="/api/v1")
MAX_COUNT = 500


def _error(status: int, message: str):
    return jsonify({"error": {"status": status, "message": message}}), status


def _api_key() -> str | None:
    try:
        return presented_key(request.headers)
    except ValueError:
        return None  # refused below, as any missing key


@bp.post("/receipts")
@csrf.exempt  # authenticated by API key, not by a browser session
def issue_receipts():
    """Issue count receipt codes for unit_code (form or JSON body), for a procedure of the
    questionnaire's list if given; return codes and URLs."""
    key = check_key(_api_key(), Scope.RECEIPTS)
    if key is None:
        return _error(401, "a valid API key with the 'receipts' scope is required")
    data = request.get_json(silent=True) if request.is_json else request.form
    if not hasattr(data, "get"):
        return _error(400, "the body must be a JSON object or a form")
    unit = unit_by_code(str(data.get("unit_code", ""))[:20])
    if unit is None:
        return _error(400, "unit_code: no such unit")
    if not key.covers(unit):
        return _error(403, f"unit_code: {unit.code} is outside this API key's units")
    if not unit.is_open_on(local_today()):  # its codes' survey would say the unit is gone
        return _error(400, f"unit_code: {unit.code} closed on {unit.closed_on:%Y-%m-%d}")
    try:
        count = int(data.get("count", 1))
    except (TypeError, ValueError):
        return _error(400, "count: must be a whole number")
    if not 1 <= count <= MAX_COUNT:
        return _error(400, f"count: must be between 1 and {MAX_COUNT}")
    procedure = data.get("procedure") or None
    if procedure is not None and (problem := questionnaires.procedure_problem(procedure)):
        return _error(400, f"procedure: {problem}")
    days = current_app.config["RECEIPT_VALID_DAYS"]
    codes = integrity.issue_receipts(unit, count, timedelta(days=days), procedure, issued_by=key)
    db.session.commit()
    return jsonify(
        {
            "unit_code": unit.code,
            "receipts": [
                {
                    "code": c.code,
                    "url": integrity.receipt_url(c, current_app.config["PUBLIC_BASE_URL"]),
                    "expires_at": c.expires_at.isoformat() + "Z",
                }
                for c in codes
            ],  # fmt: skip
        }
    ), 201
