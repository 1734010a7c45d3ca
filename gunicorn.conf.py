"""gunicorn's settings for Hài Lòng, read from the code's folder (`make run`, docs/deploy.md)."""

# The access log without the tracking and receipt codes and password-reset links in URLs: a code
# opens a case, a link a staff account.
logger_class = "core.access_log.RedactingLogger"

# No control socket (gunicorn 25.1+): nothing here uses `gunicornc`, and every server a user
# starts would share the one socket path in their home folder, each new one taking it from the
# last (an app server and an analysts' server on one machine, say).
control_socket_disable = True
