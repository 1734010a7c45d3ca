# Copy to instance/config.py and adjust. The environment overrides what is set here.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://hailong@db.example/hailong"
# PUBLIC_BASE_URL = "https://hailong.example.gov.vn"
# SESSION_COOKIE_SECURE = True   # already so with an https PUBLIC_BASE_URL; False turns it off
# Behind one load balancer that sets X-Forwarded-For and X-Forwarded-Proto (docs/deploy.md):
# PROXY_COUNT = 1
# Failed sign-ins allowed, (count, seconds): per account and client address, per address, per
# account; README, "Configuration", says what each refuses.
# LOGIN_PAIR_LIMIT = (5, 15 * 60)
# LOGIN_CLIENT_LIMIT = (20, 3600)
# LOGIN_ACCOUNT_LIMIT = (500, 24 * 3600)
# PAKN deadlines in working days, per topic (attitude, delay, documents_fees, procedure,
# facilities, other) with a default; feedback/settings.py lists every PAKN setting.
# FEEDBACK_DEADLINES = {"default": 10, "documents_fees": 7}
# FEEDBACK_PUBLISH_DEADLINES = {"default": 5}
# FEEDBACK_FORWARD_DAYS = 5
# FEEDBACK_DUE_SOON_DAYS = 2  # the queue's "due soon" tab and the staff digest
# E-mail to citizens about their PAKN (`feedback mail` from cron sends them), the staff digest
# (`feedback digest`) and password-reset links (`users mail`); without MAIL_SERVER mail is off.
# MAIL_SECURITY: starttls (port 587), ssl (465) or none (25).
# MAIL_SERVER = "smtp.example.gov.vn"
# MAIL_SECURITY = "starttls"
# MAIL_PORT = 587
# MAIL_USERNAME = "pakn"
# MAIL_PASSWORD = "..."
# MAIL_FROM = "Hài Lòng <pakn@example.gov.vn>"
# Password-reset links (only with mail on): minutes a link works; links asked for, (count,
# seconds), per client address and per address asked for.
# PASSWORD_RESET_MINUTES = 30
# PASSWORD_RESET_CLIENT_LIMIT = (10, 3600)
# PASSWORD_RESET_ADDRESS_LIMIT = (3, 3600)
