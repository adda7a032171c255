"""`/demo/shop`: a fake merchant page that embeds the account widget through the real snippet.

Open it as http://127.0.0.1:PORT/demo/shop while the widget is served from http://localhost:PORT
(PUBLIC_URL): a genuinely different site, so the embed runs cross-site as on a merchant's server.
"""
from flask import Blueprint, current_app, render_template

bp = Blueprint("demo_shop", __name__, url_prefix="/demo")


@bp.get("/shop")
def shop():
    return render_template("demo/shop.html", public_url=current_app.config["PUBLIC_URL"],
                           merchant_slug="demo", profile_slug="default")
