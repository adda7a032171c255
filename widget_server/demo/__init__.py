"""The demo: a seeded merchant, customer and invoices (`flask seed-demo`) and a fake shop page
that embeds the widget cross-site (`/demo/shop`). Registered only when DEMO_ENABLED is on
(`make run` turns it on; a production deployment leaves it off), so no demo route or command
exists in production."""
from flask import Flask


def register(app: Flask) -> None:
    if not app.config.get("DEMO_ENABLED"):
        return
    from .shop import bp

    app.register_blueprint(bp)
