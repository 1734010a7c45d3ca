"""gunicorn's settings for Hài Lòng, read from the code's folder (`make run`, docs/deploy.md)."""

# The access log without the tracking and receipt codes and password-reset links in URLs: a code
# opens a case, a link a staff account.
logger_class = "core.access_log.RedactingLogger"
