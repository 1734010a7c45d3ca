"""The page of a list a request asks for, bounded before it reaches the database's offset."""

from flask import abort, request

# Past the last page of any list; a larger page number would overflow the database's offset.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """The page of a list asked for; one past MAX_PAGE is a missing page (404)."""
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        abort(404)
    return page
