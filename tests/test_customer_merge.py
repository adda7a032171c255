"""Merging duplicate customers (SPEC W-10, issue #23 items 4 and 5).

The merge moves every row naming the merged record: this file finds every foreign key to
`customer.id` in the schema and fails when `customers.merge.MOVES` does not say how it moves,
so a new table (proposals, issues…) cannot be forgotten.
"""
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import Browserish, csrf_from, widget_login
from tests.tenant_support import CUSTOMER_PASSWORD, build_tenant, sign_in_customer, sign_in_owner
from widget_server.core.domain import DomainError
from widget_server.core.events import DomainEvent
from widget_server.core.extensions import db
from widget_server.customers import merge
from widget_server.customers.models import Customer, CustomerEmail, PortalSession
from widget_server.tenancy.audit import AuditEntry
from widget_server.tenancy.models import AdminUser, Merchant


def test_every_foreign_key_to_customer_is_declared_in_the_merge():
    """A table with a foreign key to customer.id needs a line in `merge.MOVES` (the generic
    `Move("Label")` reassigns its rows; unique things need a handler of their own)."""
    from widget_server import models  # noqa: F401  (every table in db.metadata)

    declared, found = set(merge.MOVES), merge.customer_foreign_keys()
    assert found - declared == set(), "declare how a merge moves these rows in merge.MOVES"
    assert declared - found == set(), "merge.MOVES names keys the schema no longer has"
    assert {"invoice.customer_id", "payment.customer_id", "sales_order.customer_id",
            "payment_method.customer_id", "cart.customer_id"} <= found


def _rows_naming(customer_id: int) -> dict[str, int]:
    """{"table.column": rows} still naming the customer, for every declared foreign key."""
    counts = {}
    for key in merge.MOVES:
        table_name, _, column_name = key.partition(".")
        column = db.metadata.tables[table_name].c[column_name]
        counts[key] = db.session.scalar(select(func.count()).where(column == customer_id))
    return counts


def _dead(link_answer) -> bool:
    """An emailed link that no longer works: unknown (404), or used (sent to sign in)."""
    return link_answer.status_code in (404, 410) or (
        link_answer.status_code == 302 and "/login" in link_answer.headers["Location"])


def _merge_page(t, survivor_id, merged_id):
    return f"/admin/customers/{survivor_id}/merge/{merged_id}"


def _post_merge(t, survivor_id, merged_id, login_from_id, *, page=None):
    page = page or _merge_page(t, survivor_id, merged_id)
    form = t.admin.get(page)
    assert form.status_code == 200, form.status_code
    return t.admin.post(page, data={"csrf_token": csrf_from(form.get_data(as_text=True)),
                                    "survivor": str(survivor_id),
                                    "login_from": str(login_from_id)})


@pytest.fixture
def alpha(app, make_merchant):
    """A merchant whose customer holds one of everything (invoices, payments, orders, saved
    methods, a cart, a portal session, a reset link, custom field values) and a contact."""
    t = build_tenant(app, make_merchant, "alpha", "Aardvarq")
    sign_in_owner(app, t)
    sign_in_customer(app, t)
    return t


def test_merge_moves_every_row_to_the_survivor(app, alpha):
    t = alpha
    with app.app_context():
        before = _rows_naming(t.customer_id)
        survivor_before = _rows_naming(t.contact_id)
        # the fixture holds a row of each kind the merge must move (not a vacuous walk)
        assert all(before[key] for key in (
            "invoice.customer_id", "payment.customer_id", "sales_order.customer_id",
            "payment_method.customer_id", "cart.customer_id", "customer_email.customer_id",
            "credential_token.customer_id", "portal_session.customer_id"))
    compare = t.admin.get(_merge_page(t, t.contact_id, t.customer_id)).get_data(as_text=True)
    assert "Aardvarqina" in compare and "Aardvarqette" in compare and "Invoices" in compare
    # the contact survives and takes the customer's login
    answer = _post_merge(t, t.contact_id, t.customer_id, t.customer_id)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/admin/customers/{t.contact_id}")
    landing = t.admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "is merged into this customer" in landing
    assert "merged into this customer by owner@alpha.test" in landing  # the history
    with app.app_context():
        left = _rows_naming(t.customer_id)
        now = _rows_naming(t.contact_id)
        for key, move in merge.MOVES.items():
            if move.handler in (merge.reassign, merge.move_methods):
                assert left[key] == 0, key
                itself = key == "customer.merged_into_id"  # the merged record points here now
                assert now[key] == survivor_before[key] + before[key] + itself, key
        assert now["customer_email.customer_id"] == 3  # united
        merged = db.session.get(Customer, t.customer_id)
        survivor = db.session.get(Customer, t.contact_id)
        assert merged.merged_into_id == survivor.id and merged.archived_at is not None
        assert merged.username is None and merged.password_hash is None
        assert survivor.username == "aardvarq-user" and survivor.password_hash
        assert survivor.primary_emails == ["contact-aardvarq@aardvarq.test",
                                           "aardvarq@aardvarq.test",
                                           "ap-aardvarq@aardvarq.test"]
        # the survivor had no values: the merged record's fill in, address whole
        assert set(survivor.custom_fields.values()) == {"AardvarqGold", "AardvarqEmail"}
        assert survivor.city == "Aardvarqville" and survivor.phone == "+1 555 0100"
        assert survivor.first_name == "Aardvarqette"  # the survivor's name stays
        assert db.session.scalar(select(func.count()).select_from(PortalSession).where(
            PortalSession.customer_id == t.customer_id,
            PortalSession.revoked_at.is_(None))) == 0
        entry = db.session.scalar(select(AuditEntry))
        owner = db.session.scalar(select(AdminUser).where(AdminUser.email == t.owner_email))
        assert (entry.action, entry.subject, entry.admin_user_id) == (
            "customer.merged", f"customer:{survivor.id}", owner.id)
        assert entry.detail["merged_id"] == t.customer_id
        assert entry.detail["moved"]["Invoices"] == before["invoice.customer_id"]
        event = db.session.scalar(select(DomainEvent).where(
            DomainEvent.name == "customer.merged"))
        assert event.payload == {"customer_id": survivor.id, "merged_id": t.customer_id}
    # the merged customer's open widget session answers as signed out
    gone = t.widget.get(f"{t.base}/account")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    # its emailed reset link is dead; so is the survivor's create link (its login replaced)
    fresh = app.test_client()
    assert _dead(fresh.get(f"{t.standalone}/reset/{t.tokens['reset']}"))
    assert _dead(fresh.get(f"{t.standalone}/credentials/{t.tokens['create']}"))
    # the login it kept now opens the survivor's account
    assert widget_login(fresh, t.base, "aardvarq-user", CUSTOMER_PASSWORD).status_code == 302
    assert "Aardvarqette" in fresh.get(f"{t.base}/account").get_data(as_text=True)
    # the merged record's admin URL leads to the survivor; it is in no list
    old = t.admin.get(f"/admin/customers/{t.customer_id}")
    assert old.status_code == 302
    assert old.headers["Location"].endswith(f"/admin/customers/{t.contact_id}")
    for listing in ("/admin/customers", "/admin/customers?archived=1"):
        assert f'/admin/customers/{t.customer_id}"' not in t.admin.get(listing).get_data(
            as_text=True)
    # merging it again, either way round, is refused and changes nothing
    again = t.admin.get(_merge_page(t, t.contact_id, t.customer_id))
    assert again.status_code == 302


def test_the_survivors_values_win_emails_unite_and_credit_adds_up(app, portal):
    from widget_server.customers import fields as field_service

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        tier = field_service.create_definition(merchant, name="Tier", field_type="text",
                                               required=False, choices=[])
        region = field_service.create_definition(merchant, name="Region", field_type="text",
                                                 required=False, choices=[])
        jane = db.session.get(Customer, p.customer_id)
        jane.custom_fields = {str(tier.id): "Gold"}
        jane.credit_minor = 1500
        twin = Customer(merchant_id=p.merchant_id, first_name="JANE", last_name="Doé",
                        custom_fields={str(tier.id): "Silver", str(region.id): "North"},
                        credit_minor=2500, username="jane2")
        twin.emails = [CustomerEmail(merchant_id=p.merchant_id, address=a, position=i)
                       for i, a in enumerate(("ap@example.test", "jd@other.test"))]
        db.session.add(twin)
        db.session.commit()
        twin_id, tier_id, region_id = twin.id, str(tier.id), str(region.id)
    admin = Browserish(app.test_client())
    assert admin.login("owner@acme.test", "owner-pass-123").status_code == 302
    page = f"/admin/customers/{p.customer_id}/merge/{twin_id}"
    html = admin.client.get(page).get_data(as_text=True)
    # the conflict is shown before confirming; Region is not one (only the twin has it)
    assert re.search(r'data-conflict="Tier".*?Gold.*?Silver', html, re.S)
    assert 'data-conflict="Region"' not in html and "the surviving record's value is kept" in html
    token = csrf_from(html)
    answer = admin.client.post(page, data={"csrf_token": token, "survivor": str(p.customer_id),
                                           "login_from": str(p.customer_id)})
    assert answer.status_code == 302
    with app.app_context():
        jane = db.session.get(Customer, p.customer_id)
        assert jane.custom_fields == {tier_id: "Gold", region_id: "North"}
        assert jane.credit_minor == 4000
        assert jane.primary_emails == ["jane@example.test", "ap@example.test",
                                       "jd@other.test"]
        assert jane.username == "jane"
        twin = db.session.get(Customer, twin_id)
        assert twin.credit_minor == 0 and twin.username is None and twin.primary_emails == []
    # the survivor still signs in with its own login; the removed one opens nothing
    assert widget_login(app.test_client(), p.base, "jane", p.password).status_code == 302
    assert widget_login(app.test_client(), p.base, "jd@other.test",
                        p.password).status_code == 302  # an address it took over


def test_merge_refuses_another_merchant_itself_and_a_merged_record(app, alpha, make_merchant):
    t = alpha
    other = build_tenant(app, make_merchant, "beta", "Bzzyxq")
    # the admin pages answer 404 for another merchant's record, on either side
    for url in (_merge_page(t, t.customer_id, other.customer_id),
                _merge_page(t, other.customer_id, t.customer_id),
                f"/admin/customers/{other.customer_id}/merge",
                f"/admin/customers/compare?id={t.customer_id}&id={other.customer_id}"):
        assert t.admin.get(url).status_code == 404, url
    token = csrf_from(t.admin.get(_merge_page(t, t.customer_id, t.contact_id)).get_data(
        as_text=True))
    crossing = t.admin.post(_merge_page(t, t.customer_id, other.customer_id), data={
        "csrf_token": token, "survivor": str(t.customer_id),
        "login_from": str(t.customer_id)})
    assert crossing.status_code == 404
    with app.app_context():
        a = db.session.get(Merchant, t.merchant_id)
        mine, theirs = (db.session.get(Customer, i) for i in (t.customer_id, other.customer_id))
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == t.owner_email))
        with pytest.raises(DomainError) as refused:
            merge.merge(a, mine, theirs, mine, admin)
        assert refused.value.status == 404
        with pytest.raises(DomainError, match="into itself"):
            merge.merge(a, mine, mine, mine, admin)
        contact = db.session.get(Customer, t.contact_id)
        merge.merge(a, mine, contact, mine, admin)
        db.session.commit()
        with pytest.raises(DomainError, match="already merged"):
            merge.merge(a, mine, db.session.get(Customer, t.contact_id), mine, admin)
        assert db.session.get(Customer, other.customer_id).merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_merge_form_needs_its_csrf_token_and_a_choice(app, alpha):
    t = alpha
    page = _merge_page(t, t.contact_id, t.customer_id)
    bare = t.admin.post(page, data={"survivor": str(t.contact_id),
                                    "login_from": str(t.contact_id)})
    assert bare.status_code == 400
    token = csrf_from(t.admin.get(page).get_data(as_text=True))
    odd = t.admin.post(page, data={"csrf_token": token, "survivor": "999999",
                                   "login_from": str(t.contact_id)})
    assert odd.status_code == 400
    with app.app_context():
        assert db.session.get(Customer, t.customer_id).merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_merge_is_offered_from_the_customer_page_and_the_list(app, alpha):
    t = alpha
    detail = t.admin.get(f"/admin/customers/{t.customer_id}").get_data(as_text=True)
    assert f"/admin/customers/{t.customer_id}/merge" in detail
    pick = t.admin.get(f"/admin/customers/{t.customer_id}/merge?q=Aardvarqette")
    assert f"/admin/customers/{t.customer_id}/merge/{t.contact_id}" in pick.get_data(
        as_text=True)
    listing = t.admin.get("/admin/customers").get_data(as_text=True)
    assert "Compare &amp; merge" in listing and 'formaction="/admin/customers/compare"' in listing
    ticked = t.admin.get(f"/admin/customers/compare?id={t.customer_id}&id={t.contact_id}")
    assert ticked.status_code == 302
    assert ticked.headers["Location"].endswith(_merge_page(t, t.customer_id, t.contact_id))
    one = t.admin.get(f"/admin/customers/compare?id={t.customer_id}")
    assert one.status_code == 302 and one.headers["Location"].endswith("/admin/customers")


def test_likely_duplicates_are_flagged_in_the_list(app, portal, count_queries):
    p = portal()
    admin = Browserish(app.test_client())
    assert admin.login("owner@acme.test", "owner-pass-123").status_code == 302

    def add(first, last, phone="", emails=()):
        with app.app_context():
            customer = Customer(merchant_id=p.merchant_id, first_name=first, last_name=last,
                                phone=phone, custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=p.merchant_id, address=a, position=i)
                               for i, a in enumerate(emails)]
            db.session.add(customer)
            db.session.commit()
            return customer.id

    def count():
        with count_queries() as counter:
            answer = admin.client.get("/admin/customers")
        assert answer.status_code == 200
        return counter.count, answer.get_data(as_text=True)

    lone = add("Zed", "Solo", "+1 555 0199", ["zed@example.test"])
    few, html = count()
    assert "Likely duplicate" not in html
    same_email = add("Janet", "Other", emails=["jane@example.test"])
    accents = add("Zéd ", "  SOLO", "(1) 555-0199", ["zed.solo@elsewhere.test"])
    other_phone = add("Zed", "Solo", "+1 555 0100")
    for n in range(12):  # more customers on the page, unrelated
        add(f"Cust{n}", "Pair", "+1 555 1000", [f"c{n}@example.test"])
    many, html = count()
    assert few == many  # constant: one query for every row's hints
    assert f"/admin/customers/{p.customer_id}/merge/{same_email}" in html
    assert f"/admin/customers/{lone}/merge/{accents}" in html
    assert f"/admin/customers/{accents}/merge/{lone}" in html
    assert f"/merge/{other_phone}" not in html  # the same name with another phone is not
    assert "same email address" in html and "same name and phone" in html


def test_two_admins_merging_the_pair_both_ways_at_once_make_one_merge(app, alpha, live_server):
    """Real concurrent requests: one admin merges B into A while another merges A into B.
    One merge happens, the other is refused; no error page, one audit entry."""
    import threading

    from tests.test_checkout_race import Tab

    t = alpha
    page = _merge_page(t, t.customer_id, t.contact_id)
    tabs, forms = [], []
    for survivor in (t.customer_id, t.contact_id):
        tab = Tab(live_server)
        login = tab.get("/admin/login")
        assert tab.post("/admin/login", {"csrf_token": csrf_from(login.text),
                                         "email": t.owner_email,
                                         "password": "owner-pass-123"}).status_code == 302
        token = csrf_from(tab.get(page).text)
        tabs.append(tab)
        forms.append({"csrf_token": token, "survivor": str(survivor),
                      "login_from": str(survivor)})
    barrier, answers = threading.Barrier(2), []

    def post(tab, form):
        barrier.wait(timeout=10)
        answers.append(tab.post(page, form))

    threads = [threading.Thread(target=post, args=pair) for pair in zip(tabs, forms,
                                                                        strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [302, 302]
    with app.app_context():
        merged = db.session.scalars(select(Customer).where(
            Customer.merged_into_id.is_not(None))).all()
        assert len(merged) == 1
        survivor = db.session.get(Customer, merged[0].merged_into_id)
        assert survivor.merged_into_id is None
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_a_survivor_is_archived_rather_than_deleted(app, portal):
    """A record others were merged into keeps them: deleting it archives it instead."""
    from widget_server.customers import services

    p = portal()
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        jane = db.session.get(Customer, p.customer_id)
        twin = Customer(merchant_id=p.merchant_id, first_name="Jane", last_name="Doe",
                        custom_fields={})
        db.session.add(twin)
        db.session.flush()
        merge.merge(merchant, jane, twin, jane, None)
        db.session.commit()
        assert services.delete_customer(db.session.get(Customer, p.customer_id)) == "archived"
        db.session.commit()
        assert db.session.get(Customer, twin.id).merged_into_id == p.customer_id


def test_money_in_flight_waits_and_stripe_methods_stay_with_their_stripe_customer(app, alpha):
    """A payment being charged settles under its own record first. When both records have
    their own Stripe customer, the merged one's cards cannot be charged for the survivor: its
    scheduled payment refuses the merge, and without one its saved methods stay behind."""
    from widget_server.billing.models import Payment, PaymentMethod

    t = alpha
    with app.app_context():
        merchant = db.session.get(Merchant, t.merchant_id)
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == t.owner_email))
        customer, contact = (db.session.get(Customer, i) for i in (t.customer_id, t.contact_id))
        scheduled = db.session.get(Payment, t.payment_ids[1])
        scheduled.status = "pending"
        db.session.commit()
        with pytest.raises(DomainError, match="being processed"):
            merge.merge(merchant, contact, customer, contact, admin)
        db.session.rollback()
        scheduled = db.session.get(Payment, t.payment_ids[1])
        scheduled.status = "scheduled"
        customer.gateway_customer_ref, contact.gateway_customer_ref = "cus_A1", "cus_B2"
        db.session.commit()
        with pytest.raises(DomainError, match="scheduled"):
            merge.merge(merchant, contact, customer, contact, admin)
        db.session.rollback()
        db.session.get(Payment, t.payment_ids[1]).status = "cancelled"
        db.session.commit()
        entry = merge.merge(merchant, contact, customer, contact, admin)
        db.session.commit()
        assert entry.detail["methods_left"] == 2
        assert db.session.scalar(select(func.count()).select_from(PaymentMethod).where(
            PaymentMethod.customer_id == t.customer_id)) == 2
        assert db.session.get(Customer, t.contact_id).gateway_customer_ref == "cus_B2"


def test_the_record_with_the_login_and_the_history_is_kept_by_default(app, alpha):
    """#23 browser pass: following "compare" from the thin duplicate's row offered to keep the
    duplicate. Whichever record the compare starts from, the one with the login (and more
    records) is preselected."""
    t = alpha
    for first, second in ((t.contact_id, t.customer_id), (t.customer_id, t.contact_id)):
        page = t.admin.get(_merge_page(t, first, second)).get_data(as_text=True)
        checked = re.search(r'<input[^>]*checked[^>]*name="survivor"[^>]*value="(\d+)"|'
                            r'<input[^>]*name="survivor"[^>]*value="(\d+)"[^>]*checked', page)
        assert checked and int(checked.group(1) or checked.group(2)) == t.customer_id, first
