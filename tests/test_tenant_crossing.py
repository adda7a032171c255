"""Tenant crossing over the real URL map (#19 item 16): signed in as merchant A's owner (admin)
and as A's customer (widget), every route of both faces is asked, GET and POST with a valid
CSRF token of A's session, about merchant B's rows. Each answer is a refusal (403/404/410), shows
none of B's names, numbers or emails, and leaves every row B owns as it was.

The routes come from `app.url_map`, so a new route is covered without editing this file; a route
with a URL argument this file cannot fill with B's values fails `test_every_argument_is_mapped`
until the argument gets a line in `TENANT_ARGUMENTS` (a row of a merchant) or `VOCABULARY` (the
app's own words, the same for every merchant).
"""
import pytest

from tests.tenant_support import (
    build_tenant,
    changed_tables,
    leaked,
    sign_in_customer,
    sign_in_owner,
    snapshot,
)
from widget_server.widget import EMBEDDED, STANDALONE
from widget_server.widget.capabilities import ROUTES

FACES = ("admin", EMBEDDED, STANDALONE)
REFUSED = {403, 404, 410}

# URL arguments that name a merchant's rows or links: every value of tenant `t` to try.
TENANT_ARGUMENTS = {
    "customer_id": lambda t: [t.customer_id, t.contact_id],
    "other_id": lambda t: [t.contact_id, t.customer_id],  # admin.customer_merge (#23)
    "invoice_id": lambda t: t.invoice_ids,
    "payment_id": lambda t: t.payment_ids,
    "order_id": lambda t: t.order_ids,
    "method_id": lambda t: t.method_ids,
    "admin_id": lambda t: t.admin_ids,
    "definition_id": lambda t: t.field_ids,
    "message_id": lambda t: [t.message_id],
    "profile_id": lambda t: [t.profile_id, t.other_profile_id],
    "product_id": lambda t: [t.product_id],
    "token": lambda t: [*t.tokens.values(), t.pay_token, t.preview_token],
    "agent_id": lambda t: t.agent_ids,
    "proposal_id": lambda t: t.proposal_ids,
    "issue_id": lambda t: t.issue_ids,  # service issues (#23)
    "attachment_id": lambda t: t.attachment_ids,
    "refund_id": lambda t: t.refund_ids,  # refunds and credit notes (#24)
    "note_id": lambda t: t.credit_note_ids,
    "key_id": lambda t: t.key_ids,  # API keys (#25)
    "endpoint_id": lambda t: t.endpoint_ids,  # webhooks (#25)
    "delivery_id": lambda t: t.delivery_ids,
}


def _portal_actions():
    from widget_server.admin.customers import PORTAL_ACTIONS

    return sorted(PORTAL_ACTIONS)


def _tabs():
    from widget_server.profiles.tabs import TABS_BY_KEY

    return sorted(TABS_BY_KEY)


def _sections():
    from widget_server.tenancy.configuration import SECTIONS_BY_KEY

    return sorted(SECTIONS_BY_KEY)


def _email_types():
    from widget_server.notifications.templates import EDITABLE

    return [t.key for t in EDITABLE]


# URL arguments that are the app's own vocabulary (the same words for every merchant): every
# word is tried. An `any(...)` converter lists its words itself.
VOCABULARY = {
    "action": _portal_actions,  # admin.customer_portal; invoice/profile actions are any(...)
    "tab_key": _tabs,
    "section_key": _sections,
    "type_key": _email_types,
    "unknown": lambda: ["no-such-page"],  # the widget's own 404 page (issue #20-8)
}
# Set by the test itself (the face's prefix), never a row id.
PREFIX = {"merchant_slug", "profile_slug"}
# Rules that serve the package's static files: no merchant behind them.
STATIC = {"admin.static"}

# Form fields and query parameters that carry ids in the body: B's values in each, on every
# route (a route that reads one must scope it; one that ignores it must not mind).
def _id_fields(t) -> dict:
    return {
        "id": [str(t.customer_id), str(t.contact_id)],  # admin.invitation's To list
        "invoice": [str(i) for i in t.invoice_ids],  # widget Pay page
        "method": f"saved-{t.method_ids[0]}",
        "product_0": str(t.product_id), "quantity_0": "1",  # admin new invoice
        f"quantity_{t.product_id}": "1",  # widget new invoice
        "product": str(t.plan_id), "line": str(t.order_ids[0]),  # widget plan change
        f"quantity_{t.plan_id}": "1", "step": "confirm",  # new order
        "sales_agent": str(t.agent_ids[0]),  # widget sales agent
        "order_id": str(t.order_ids[0]),
        "before": str(t.payment_ids[-1] + 1),
        "token": t.preview_token,  # widget preview
        # searches, by an email (a page may echo what was searched, never whom it found)
        "q": f"{t.mark.lower()}@{t.mark.lower()}.test",
        "add": f"{t.mark.lower()}@{t.mark.lower()}.test",  # admin.invitation: add by search
        "customer_id": str(t.customer_id), "profile_id": str(t.profile_id),
        "invoice_id": str(t.invoice_ids[0]), "payment_id": str(t.payment_ids[1]),
        "method_id": str(t.method_ids[0]), "admin_id": str(t.admin_ids[1]),
        "customer": str(t.customer_id), "when": "now", "product_1": str(t.product_id),
        "send": "1", "autopay": "on", "amount": "1.00", "idempotency_key": "crossing",
    }


# A plausible body for every form, so that a route which forgot to scope would really change
# something (and the snapshot would show it).
def _plausible_body(t, csrf) -> dict:
    return {"csrf_token": csrf, "name": "Taken over", "slug": "taken-over",
            "first_name": "Taken", "last_name": "Over", "primary_email": "taken@over.test",
            "username": "taken-over", "role": "owner", "active": "0",
            **{f"u{i}-role": "owner" for i in t.admin_ids},
            **{f"u{i}-active": "0" for i in t.admin_ids},
            "subject": "Taken over", "body": "Taken over", "password": "Taken-over-123",
            "confirm": "Taken-over-123", "login": f"{t.mark.lower()}-user"}


def face_rules(app, faces=FACES):
    return sorted((r for r in app.url_map.iter_rules()
                   if r.endpoint.partition(".")[0] in faces and r.endpoint not in STATIC),
                  key=lambda r: (r.rule, r.endpoint))


def _words(rule, name) -> list[str] | None:
    converter = rule._converters.get(name)
    if converter is not None and hasattr(converter, "items"):  # any(...)
        return sorted(converter.items)
    return VOCABULARY[name]() if name in VOCABULARY else None


def urls_for(app, rule, tenant, *, slugs) -> list[str]:
    """Every URL of `rule` with tenant's rows in its id arguments, each word of its vocabulary
    arguments, and `slugs` (merchant, profile) in its prefix."""
    from itertools import product

    names = sorted(rule.arguments - PREFIX)
    choices = []
    for name in names:
        if name in TENANT_ARGUMENTS:
            choices.append(TENANT_ARGUMENTS[name](tenant))
        else:
            words = _words(rule, name)
            assert words is not None, f"{rule.endpoint}: no mapping for <{name}>"
            choices.append(words)
    adapter = app.url_map.bind("localhost")
    prefix = {"merchant_slug": slugs[0], "profile_slug": slugs[1]}
    return [adapter.build(rule.endpoint, {**{k: v for k, v in prefix.items()
                                             if k in rule.arguments},
                                          **dict(zip(names, combo, strict=True))})
            for combo in product(*choices)]


def takes_tenant_ids(rule) -> bool:
    return bool(rule.arguments & TENANT_ARGUMENTS.keys())


@pytest.fixture
def tenants(app, make_merchant):
    a = build_tenant(app, make_merchant, "alpha", "Aardvarq")
    b = build_tenant(app, make_merchant, "bravo", "Xyzzyb")
    sign_in_owner(app, a)
    sign_in_customer(app, a)
    return a, b


def test_every_argument_is_mapped(app):
    """A new route whose URL names something this file cannot fill fails here: give its
    argument a line in TENANT_ARGUMENTS (a merchant's row) or VOCABULARY (the app's words)."""
    unmapped = sorted({f"{r.endpoint}: <{name}>" for r in face_rules(app)
                       for name in r.arguments - PREFIX
                       if name not in TENANT_ARGUMENTS and _words(r, name) is None})
    assert unmapped == []
    crossing = {r.endpoint for r in face_rules(app) if takes_tenant_ids(r)}
    # the walk below really reaches the routes that matter (a guard against an empty walk)
    assert {"admin.customer_detail", "admin.invoice_detail", "admin.user_change",
            "admin.email_html", "widget.invoice_pdf", "widget.remove_method",
            "portal.cancel_payment", "widget.reset", "admin.order_detail",
            "admin.order_cancel", "admin.agent_action", "admin.issue_attachment",
            "widget.issue_attachment", "admin.issue_status", "admin.payment_refund",
            "admin.credit_note_new", "widget.credit_note_pdf"} <= crossing


def _text(answer) -> str:
    return answer.get_data().decode("utf-8", "replace")


def _shown(answer, secrets, sent: dict) -> list[str]:
    """The secrets in the answer, less those the request itself carried (a form re-shown
    with what was typed, a search box with its query)."""
    echoed = " ".join(str(v) for v in sent.values())
    return [s for s in leaked(_text(answer), secrets) if s not in echoed]


def _ask(client, method, url, body):
    if method == "GET":
        return client.get(url)
    return client.post(url, data=body)


SUCCESS_NOTES = ("flash-success", "notice-success")


def _refused_redirect(client, answer) -> bool:
    """A redirect back to a page of the same face that says nothing succeeded (e.g. "That
    payment can no longer be cancelled.", the same answer as for one of A's own that is
    gone): a refusal too, as long as no row changed (checked by the caller)."""
    if answer.status_code != 302:
        return False
    landing = client.get(answer.headers["Location"])
    text = landing.get_data(as_text=True)
    return landing.status_code == 200 and not any(note in text for note in SUCCESS_NOTES)


def _refusals(app, client, rules, urls_of, body, b):
    """Ask every URL of every rule, each allowed method; the answers that were not refusals or
    that showed B's strings."""
    problems = []
    for rule in rules:
        for url in urls_of(rule):
            for method in sorted(rule.methods & {"GET", "POST"}):
                answer = _ask(client, method, url, body)
                if answer.status_code not in REFUSED and not _refused_redirect(client, answer):
                    problems.append((method, url, answer.status_code,
                                     answer.headers.get("Location")))
                if shown := _shown(answer, b.secrets, body if method == "POST" else {}):
                    problems.append((method, url, "shows", shown))
    return problems


def test_admin_routes_refuse_another_merchants_ids(app, tenants):
    a, b = tenants
    before = snapshot(app, b.merchant_id)
    rules = [r for r in face_rules(app, ("admin",)) if takes_tenant_ids(r)]
    assert len(rules) >= 10
    problems = _refusals(app, a.admin, rules,
                         lambda r: urls_for(app, r, b, slugs=(a.slug, "standard")),
                         _plausible_body(b, a.admin_csrf), b)
    assert problems == []
    assert changed_tables(before, snapshot(app, b.merchant_id)) == {}
    # still signed in: the walk was not refused only for want of a session
    assert a.admin.get("/admin/customers").status_code == 200


@pytest.mark.parametrize("face", [EMBEDDED, STANDALONE])
def test_widget_routes_refuse_another_merchants_ids(app, tenants, face):
    """A's customer, on A's own portal, naming B's invoices, payments, methods and links."""
    a, b = tenants
    before = snapshot(app, b.merchant_id)
    rules = [r for r in face_rules(app, (face,)) if takes_tenant_ids(r)]
    assert len(rules) >= 8
    problems = _refusals(app, a.widget, rules,
                         lambda r: urls_for(app, r, b, slugs=(a.slug, "standard")),
                         _plausible_body(b, a.widget_csrf), b)
    assert problems == []
    assert changed_tables(before, snapshot(app, b.merchant_id)) == {}
    assert a.widget.get(f"{a.base}/account").status_code == 200


# Routes that end the signed-in session: asked last, so the rest of the walk keeps its session.
ENDS_SESSION = {"admin.logout", f"{EMBEDDED}.logout", f"{STANDALONE}.logout"}


def _sweep(app, client, rules, url_of, csrf, a, b):
    """Every route (ids in the URL or not) with B's ids in the query string (GET) and the
    form (POST): never a 5xx, never B's strings."""
    problems = []
    fields = _id_fields(b)
    ordered = sorted(rules, key=lambda r: r.endpoint in ENDS_SESSION)
    for rule in ordered:
        for url in url_of(rule):
            for method in sorted(rule.methods & {"GET", "POST"}):
                sent = fields if method == "GET" else {**_plausible_body(b, csrf), **fields}
                if method == "GET":
                    answer = client.get(url, query_string=sent)
                else:
                    answer = client.post(url, data=sent)
                if answer.status_code >= 500:
                    problems.append((method, url, answer.status_code))
                if shown := _shown(answer, b.secrets, sent):
                    problems.append((method, url, "shows", shown))
    return problems


def test_admin_ids_in_forms_and_queries_stay_in_the_merchant(app, tenants):
    """B's ids where a form or a query string carries ids (invitation To list, invoice lines,
    searches, cursors), on every admin route, A's own rows in the URL."""
    a, b = tenants
    before = snapshot(app, b.merchant_id)
    problems = _sweep(app, a.admin, face_rules(app, ("admin",)),
                      lambda r: urls_for(app, r, a, slugs=(a.slug, "standard"))[:3],
                      a.admin_csrf, a, b)
    assert problems == []
    assert changed_tables(before, snapshot(app, b.merchant_id)) == {}


@pytest.mark.parametrize("face", [EMBEDDED, STANDALONE])
def test_widget_ids_in_forms_and_queries_stay_in_the_merchant(app, tenants, face):
    """B's invoice ids on A's Pay page, B's saved method as the method, B's products on New
    invoice, B's preview token on A's preview, B's payment id as a cursor..."""
    a, b = tenants
    before = snapshot(app, b.merchant_id)
    problems = _sweep(app, a.widget, face_rules(app, (face,)),
                      lambda r: urls_for(app, r, a, slugs=(a.slug, "standard"))[:3],
                      a.widget_csrf, a, b)
    assert problems == []
    assert changed_tables(before, snapshot(app, b.merchant_id)) == {}


@pytest.mark.parametrize("face", [EMBEDDED, STANDALONE])
def test_a_customers_session_is_nobody_at_another_merchant(app, tenants, face):
    """A's signed-in cookie on B's portal (B's slug and profile): every page that needs a
    customer sends to B's sign-in, A's links are unknown there, and neither merchant's
    customer data shows."""
    a, b = tenants
    # B's Sign out, posted with A's cookie, ends A's session: the cookie belongs to the host,
    # not to a merchant, and signing out of it is the visitor's own business. Asked last.
    ignore = {"portal_session": {"last_seen_at", "revoked_at"}}
    before = {m.merchant_id: snapshot(app, m.merchant_id, ignore=ignore) for m in (a, b)}
    problems = []
    for rule in sorted(face_rules(app, (face,)), key=lambda r: r.endpoint in ENDS_SESSION):
        name = rule.endpoint.rpartition(".")[2]
        signed_in = ROUTES[name].signed_in
        for values_of in (b, a):  # B's rows on B's portal, and A's rows on B's portal
            if values_of is b and "token" in rule.arguments:
                continue  # B's genuine links do open B's pages: that is their purpose
            for url in urls_for(app, rule, values_of, slugs=(b.slug, "standard")):
                for method in sorted(rule.methods & {"GET", "POST"}):
                    body = _plausible_body(a, a.widget_csrf)
                    answer = _ask(a.widget, method, url, body)
                    location = answer.headers.get("Location", "").split("?next=")[0]
                    if answer.status_code >= 500:
                        problems.append((method, url, answer.status_code))
                    elif signed_in and not (
                            answer.status_code in REFUSED
                            or (answer.status_code == 302 and location.endswith("/login"))):
                        problems.append((method, url, answer.status_code, location))
                    if shown := _shown(answer, a.secrets + b.secrets,
                                       body if method == "POST" else {}):
                        problems.append((method, url, "shows", shown))
    assert problems == []
    assert a.widget.get(f"/w/{b.slug}/standard/account").headers["Location"].endswith(
        f"/w/{b.slug}/standard/login")
    for m in (a, b):
        changes = changed_tables(before[m.merchant_id],
                                 snapshot(app, m.merchant_id, ignore=ignore))
        # B's public "email me a link" forms (enrol, forgot) queue their answer for anyone
        # who asks, whatever the address: that is their job, not a crossing
        gone, new = changes.pop("job", ([], []))
        assert gone == [] and all(row[1] == "'credentials.request'" for row in new), new
        # B's public sign-in form counts failed attempts under the login asked (a hash of it,
        # for lockout, whether or not such a customer exists): that is its job too
        changes.pop("login_failure", None)
        assert changes == {}
