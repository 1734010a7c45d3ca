"""gunicorn's settings for Hài Lòng, read from the code's folder (`make run`, docs/deploy.md)."""

# The access log without the tracking and receipt codes in URLs: a code opens a case.
logger_class = "core.access_log.RedactingLogger"
