"""`/demo/shop`: a fake merchant page that embeds the account widget through the real snippet;
`/demo/shop/products`: the shop's "Shop" page, the cart widget beside the account widget (two
widgets on one page, E-7, issue #22 slice d).

Open them as http://127.0.0.1:PORT/demo/shop while the widget is served from http://localhost:PORT
(PUBLIC_URL): a genuinely different site, so the embed runs cross-site as on a merchant's server.
"""
from flask import Blueprint, current_app, render_template

bp = Blueprint("demo_shop", __name__, url_prefix="/demo")


def _page(template: str):
    return render_template(template, public_url=current_app.config["PUBLIC_URL"],
                           merchant_slug="demo", profile_slug="default")


@bp.get("/shop")
def shop():
    return _page("demo/shop.html")


@bp.get("/shop/products")
def products():
    return _page("demo/products.html")
