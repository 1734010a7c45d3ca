"""The application factory: a list of register steps."""

import os
from pathlib import Path

from flask import Flask, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from core.config import load_config
from core.extensions import babel, csrf, db, login
from core.redaction import redact

ROOT = Path(__file__).resolve().parent.parent
VI_CATALOGUE = Path("translations/vi/LC_MESSAGES/messages.mo")


class HaiLong(Flask):
    """Flask, its error log without the codes that open a case or a survey (core/redaction.py),
    as gunicorn's access log (core/access_log.py)."""

    def log_exception(self, exc_info) -> None:
        self.logger.error(
            "Exception on %s [%s]", redact(request.full_path.rstrip("?")), request.method,
            exc_info=exc_info,
        )  # fmt: skip


def create_app(test_config=None) -> Flask:
    """Build the app: config, proxies, extensions, blueprints, commands, headers, error pages."""
    app = HaiLong(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("HAILONG_INSTANCE") or str(ROOT / "instance"),
        template_folder="../templates",
        static_folder="../static",
    )
    load_config(app, test_config)
    register_proxies(app)
    app.json.sort_keys = False  # JSON fields in the order built: the documented column order
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_hooks(app)
    return app


def register_proxies(app: Flask) -> None:
    """Take the client's address and scheme from the PROXY_COUNT proxies nearest the app."""
    if count := app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register_extensions(app: Flask) -> None:
    from analysis import models  # noqa: F401 (its table)
    from core import apikeys, database, i18n  # noqa: F401 (apikeys: its model)
    from core.models import user_for_session

    db.init_app(app)
    database.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(ROOT / "translations"),
    )
    if not (ROOT / VI_CATALOGUE).exists():
        app.logger.warning(
            "%s is missing: pages and posters will be in English. Compile the catalogues with "
            "'pybabel compile -d translations' (make run does).",
            VI_CATALOGUE,
        )
    csrf.init_app(app)
    # Flask-Login's own context processor loads the session's user for every template; the
    # proxy loads it only where a template reads it, so a citizen's page never asks.
    login.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login.login_view = "auth.login"
    login.login_message = None
    login.user_loader(user_for_session)


def register_blueprints(app: Flask) -> None:
    from analysis import views_api as analysis_api
    from analysis import views_staff as analysis_staff
    from core import (
        auth,
        database,
        health,
        i18n,
        views_accounts,
        views_invitations,
        views_own_account,
        views_reset,
        views_units,
    )
    from feedback import open311 as feedback_open311
    from feedback import views_admin as feedback_admin
    from feedback import views_intake as feedback_intake
    from feedback import views_public as feedback_public
    from feedback import views_staff as feedback_staff
    from survey import views_api as survey_api
    from survey import views_comments as survey_comments
    from survey import views_counter as survey_counter
    from survey import views_points as survey_points
    from survey import views_public as survey_public
    from survey import views_staff as survey_staff

    # Before any rule is added: each rule takes its converters as it is added.
    app.url_map.converters["int"] = database.RowNumberConverter
    app.register_blueprint(health.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views_reset.bp)
    app.register_blueprint(views_accounts.bp)
    app.register_blueprint(views_invitations.bp)
    app.register_blueprint(views_own_account.bp)
    app.register_blueprint(views_units.bp)
    app.register_blueprint(survey_public.bp)
    app.register_blueprint(survey_staff.bp)
    app.register_blueprint(survey_comments.bp)
    app.register_blueprint(feedback_public.bp)
    app.register_blueprint(feedback_staff.bp)
    app.register_blueprint(feedback_intake.bp)
    app.register_blueprint(feedback_admin.bp)
    app.register_blueprint(feedback_open311.bp)
    app.register_blueprint(survey_counter.bp)
    app.register_blueprint(survey_points.bp)
    app.register_blueprint(survey_api.bp)
    app.register_blueprint(analysis_staff.bp)
    app.register_blueprint(analysis_api.bp)


def register_commands(app: Flask) -> None:
    from analysis import cli as analysis_cli
    from core import cli
    from feedback import cli as feedback_cli
    from survey import cli as survey_cli

    cli.init_app(app)
    survey_cli.init_app(app)
    feedback_cli.init_app(app)
    analysis_cli.init_app(app)


def register_hooks(app: Flask) -> None:
    from core import errors, i18n, nav, page_address, security

    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    page_address.init_app(app)
    nav.init_app(app)
