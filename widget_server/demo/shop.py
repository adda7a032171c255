"""`/demo/shop`: a fake merchant page that embeds the account widget through the real snippet;
`/demo/shop/products`: the shop's "Shop" page, the cart widget beside the account widget (two
widgets on one page, E-7, issue #22 slice d); `/demo/shop/sso`: the account widget signed in by
the shop (single sign-on, E-8, issue #25 slice d).

Open them as http://127.0.0.1:PORT/demo/shop while the widget is served from http://localhost:PORT
(PUBLIC_URL): a genuinely different site, so the embed runs cross-site as on a merchant's server.
"""
from flask import Blueprint, abort, current_app, make_response, render_template
from sqlalchemy import select

from ..core.extensions import db
from ..customers import sign_in_tokens
from ..customers.models import Customer
from ..tenancy.models import Merchant
from .seed import CUSTOMER_USERNAME

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


@bp.get("/shop/sso")
def sso():
    """The shop's "signed in on the shop" page (E-8, issue #25 item 6): the shop knows its
    customer (here: the demo customer, as if signed in on the shop), asks for a single sign-on
    token and hands it to the loader as `data-session`; the widget opens signed in, no password.

    A merchant's server does this over the API with its secret key:

        answer = requests.post(f"{WIDGET}/api/v1/portal_sessions",
                               headers={"Authorization": f"Bearer {SECRET_KEY}"},
                               json={"customer": customer_id}, timeout=10).json()
        token = answer["token"]  # data-session; answer["url"] opens the standalone portal

    The demo calls the same service in-process (it has no key of its own)."""
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == "demo"))
    customer = merchant and db.session.scalar(select(Customer).where(
        Customer.merchant_id == merchant.id, Customer.username == CUSTOMER_USERNAME))
    if customer is None:
        abort(404, description="Seed the demo first: flask seed-demo.")
    _row, token = sign_in_tokens.issue(customer)
    response = make_response(render_template(
        "demo/sso.html", public_url=current_app.config["PUBLIC_URL"], merchant_slug="demo",
        profile_slug="default", session_token=token, customer=customer))
    response.headers["Cache-Control"] = "no-store"  # a token is in the page: never cached
    return response
