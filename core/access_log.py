"""gunicorn's access log without the codes that open a PAKN or a receipt's survey, nor the
password-reset links (core/redaction.py says which)."""

from gunicorn import glogging

from core.redaction import redact


class RedactingLogger(glogging.Logger):
    """gunicorn's logger, its access log redacted (gunicorn.conf.py names it)."""

    def atoms(self, resp, req, environ, request_time):
        # Every atom: the request line, the path, the query, the referer (a page's own
        # stylesheet is asked for with the page's address), and any header or environ value.
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
