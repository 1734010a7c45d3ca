# Copy to instance/config.py and adjust. The environment overrides what is set here.
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://hailong@db.example/hailong"
# PUBLIC_BASE_URL = "https://hailong.example.gov.vn"
# SESSION_COOKIE_SECURE = True
