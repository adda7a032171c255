"""The widget's capability table (P-8) over the real URL map: every widget route says what it
needs, and with its setting off each route refuses, GET and POST alike, even when the request
is crafted by hand. A new page without a declaration fails here."""
import pytest

from tests.payment_support import CARD, pay_form, set_payment
from widget_server.core.extensions import db
from widget_server.profiles.models import SelfServiceProfile
from widget_server.widget import EMBEDDED, STANDALONE
from widget_server.widget.capabilities import ROUTES, navigation


def widget_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.endpoint.partition(".")[0] in (EMBEDDED, STANDALONE)]


def test_every_widget_route_declares_what_it_needs(app):
    rules = widget_rules(app)
    assert rules
    undeclared = sorted({r.endpoint for r in rules
                         if r.endpoint.rpartition(".")[2] not in ROUTES})
    assert undeclared == []
    # and nothing is declared for a page that does not exist
    assert set(ROUTES) == {r.endpoint.rpartition(".")[2] for r in rules}


def _url(app, rule, slug):
    values = {"merchant_slug": slug, "profile_slug": "standard"}
    for arg in rule.arguments - values.keys():
        values[arg] = 1 if rule._converters[arg].__class__.__name__ != "UnicodeConverter" \
            else "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def _set(app, profile_id, requirement, value):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, profile_id)
        settings = dict(profile.settings or {})
        settings[requirement.tab] = {**settings.get(requirement.tab, {}), requirement.key: value}
        profile.settings = settings
        db.session.commit()


def _post(client, url, csrf):
    return client.post(url, data={"csrf_token": csrf})


GUARDED = sorted(((name, req) for name, cap in ROUTES.items()
                 for req in cap.needs + cap.post_needs), key=lambda nr: (nr[0], nr[1].key))


@pytest.mark.parametrize(("endpoint", "requirement"), GUARDED,
                         ids=[f"{n}-{r.tab}.{r.key}" for n, r in GUARDED])
def test_each_route_refuses_with_its_setting_off(app, billed, endpoint, requirement):
    from tests.conftest import csrf_from

    _set(app, billed.profile_id, requirement, requirement.refusing_value())
    csrf = csrf_from(billed.client.get(f"{billed.base}/profile").get_data(as_text=True))
    post_only = requirement in ROUTES[endpoint].post_needs
    for rule in widget_rules(app):
        if rule.endpoint.rpartition(".")[2] != endpoint:
            continue
        url = _url(app, rule, billed.slug)
        if not post_only and "GET" in rule.methods:
            assert billed.client.get(url).status_code == 403, (url, "GET")
        if "POST" in rule.methods:
            assert _post(billed.client, url, csrf).status_code == 403, (url, "POST")


@pytest.mark.parametrize("endpoint", sorted(n for n, c in ROUTES.items() if c.signed_in))
def test_signed_in_pages_send_strangers_to_sign_in(app, portal, client, endpoint):
    p = portal()
    for rule in widget_rules(app):
        if rule.endpoint.rpartition(".")[2] == endpoint and "GET" in rule.methods:
            answer = client.get(_url(app, rule, p.slug))
            # the sign-in page, which may be told where to come back to (the cart's checkout)
            assert answer.status_code == 302
            assert answer.location.split("?next=")[0].endswith("/login")


def test_payments_off_hides_and_refuses_the_payment_pages(app, billed):
    """Defect 3 of #18: with Allow Payments and Show Payments off, Payment methods answered and
    autopay could be turned on; the overview listed payments."""
    from tests.conftest import csrf_from

    paid = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0])})
    assert paid.status_code == 200
    assert "Payment ·" in billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    set_payment(app, billed, {"allow_payments": False, "show_payments": False})
    assert billed.client.get(f"{billed.base}/methods").status_code == 403
    overview = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    csrf = csrf_from(overview)
    refused = billed.client.post(f"{billed.base}/methods/autopay",
                                 data={"csrf_token": csrf, "autopay": "on"})
    assert refused.status_code == 403
    for label in (">Pay<", ">Payments<", ">Payment methods<", "Payment ·"):
        assert label not in overview


def test_the_navigation_is_the_pages_that_answer(app, billed):
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        assert [i.endpoint for i in navigation(profile)] == [
            "overview", "invoices", "pay_invoices", "payment_history", "payment_methods",
            "profile"]
    set_payment(app, billed, {"card_ach_mode": "no_save", "show_payments": False})
    with app.app_context():
        profile = db.session.get(SelfServiceProfile, billed.profile_id)
        assert [i.endpoint for i in navigation(profile)] == [
            "overview", "invoices", "pay_invoices", "profile"]
    page = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert ">Pay<" in page and ">Payments<" not in page and ">Payment methods<" not in page


def test_show_invoices_off_leaves_invoices_out_of_the_overview(app, billed):
    """Browser QA of #18: with Show Invoices off the overview's activity still listed invoice
    numbers, where Show Payments off already left payments out."""
    overview = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert "Invoice " in overview
    _set(app, billed.profile_id, ROUTES["invoices"].needs[0], False)
    overview = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert "Invoice " not in overview and ">Invoices<" not in overview


def test_with_payments_off_a_customer_still_removes_a_card_and_ends_autopay(app, billed):
    """Browser QA of #18: with Allow Payments off, a customer with autopay on could neither
    turn it off nor remove the card, while autopay kept charging. Turning it on stays refused."""
    from tests.conftest import csrf_from

    paid = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "invoice": str(billed.invoice_ids[0]), "autopay": "y"})
    assert paid.status_code == 200
    set_payment(app, billed, {"allow_payments": False, "card_ach_mode": "force_autopay"})
    page = billed.client.get(f"{billed.base}/methods")
    assert page.status_code == 200 and "Turn autopay off" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    off = billed.client.post(f"{billed.base}/methods/autopay", data={"csrf_token": csrf},
                             follow_redirects=True)
    assert "Autopay is off." in off.get_data(as_text=True)
    assert billed.client.post(f"{billed.base}/methods/autopay",
                              data={"csrf_token": csrf, "autopay": "on"}).status_code == 403
    overview = billed.client.get(f"{billed.base}/account").get_data(as_text=True)
    assert ">Payment methods<" not in overview  # reachable, but not a section of its own
