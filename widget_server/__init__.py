"""Application factory: the table of contents of the app."""
from flask import Flask

from .core import config as app_config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; tests pass `test_config` to override what the environment says."""
    from .web.application import Application
    from .web.request_guards import IdConverter, reject_control_characters

    app = Application(__name__, instance_path=str(app_config.INSTANCE_DIR))
    app.url_map.converters["id"] = IdConverter
    app.before_request(reject_control_characters)
    app.config.from_mapping(app_config.from_environment())
    if test_config:
        app.config.update(test_config)
    hops = app.config.get("PROXY_FIX_HOPS", 0)  # read after the configuration is loaded
    if hops:  # behind N trusted proxies: the client address for rate limits, https for cookies
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.setdefault("SERVER_NAME", None)
    register_extensions(app)
    register_unit_of_work(app)
    register_sessions(app)
    register_blueprints(app)
    register_security_headers(app)
    register_compression(app)
    register_errorhandlers(app)
    register_jobs(app)
    register_domain_checks(app)
    register_subscribers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table, for migrations)
    from .core import database  # noqa: F401  (installs the SQLite pragmas)
    from .core.extensions import csrf, db, init_limiter, login_manager, mail, migrate
    from .core.passwords import init_app as init_password_hashing

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app_config.MIGRATIONS_DIR))
    csrf.init_app(app)
    mail.init_app(app)
    init_limiter(app)
    login_manager.init_app(app, add_context_processor=False)
    init_password_hashing(app)  # the bound on concurrent hashing (issue #19)
    from .core.i18n import init_app as init_languages

    init_languages(app)  # the customer's language (issue #20-5, B-5)


def register_unit_of_work(app: Flask) -> None:
    from .core.unit_of_work import register

    register(app)


def register_sessions(app: Flask) -> None:
    from .web.sessions import PathSessionInterface

    app.session_interface = PathSessionInterface()


def register_blueprints(app: Flask) -> None:
    from jinja2 import ChoiceLoader

    from . import api, demo, widget
    from .admin import bp as admin_bp
    from .billing.stripe_webhooks import bp as stripe_webhooks_bp
    from .media.routes import bp as media_bp
    from .media.routes import media_url
    from .web.embed import bp as embed_bp
    from .web.health import bp as health_bp
    from .web.themes import ThemeLoader
    from .web.themes import bp as themes_bp

    app.jinja_env.loader = ChoiceLoader([app.jinja_env.loader, ThemeLoader()])
    app.register_blueprint(health_bp)
    app.register_blueprint(themes_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(media_bp)
    app.add_template_global(media_url)
    demo.register(app)
    app.register_blueprint(stripe_webhooks_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    widget.register(app)
    api.register(app)


def register_security_headers(app: Flask) -> None:
    from .web.security_headers import apply_security_headers

    app.after_request(apply_security_headers)


def register_compression(app: Flask) -> None:
    from .web.compression import compress_static_file

    app.after_request(compress_static_file)


def register_jobs(app: Flask) -> None:
    """Import the modules that register job handlers (one per kind)."""
    from .api import idempotency  # noqa: F401
    from .billing import payment_jobs  # noqa: F401
    from .commerce import billing_run, cart_purge  # noqa: F401
    from .customers import enrolment  # noqa: F401
    from .notifications import delivery  # noqa: F401
    from .webhooks import services as webhooks  # noqa: F401  (the `webhook` job)


def register_subscribers(app: Flask) -> None:
    """Import the modules that subscribe to domain events (`events.subscriber`)."""
    from .notifications import subscribers  # noqa: F401
    from .webhooks import services  # noqa: F401  (signed webhooks, #25)


def register_domain_checks(app: Flask) -> None:
    """What tenancy asks of the other domains without importing them: a currency in use."""
    from .billing.account import has_money_records
    from .catalogue.services import has_products
    from .core import i18n
    from .tenancy.configuration import picked_languages
    from .tenancy.services import CURRENCY_IN_USE

    i18n.picked_languages = picked_languages  # the languages tenancy declares, for core.i18n

    for check in (has_products, has_money_records):
        if check not in CURRENCY_IN_USE:
            CURRENCY_IN_USE.append(check)


def register_errorhandlers(app: Flask) -> None:
    from .web.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
