"""SQL statements per widget page stay constant as a merchant's data grows (B-2).

The overview and the invoice list are covered beside their pages (test_widget_pages.py,
test_invoices.py); this is the login page, the one every visitor sees first. `make bench` prints
the counts of all three; this is where they are asserted.
"""
from widget_server.core.extensions import db
from widget_server.customers.models import Customer, CustomerEmail
from widget_server.profiles import services as profile_services
from widget_server.tenancy.models import Merchant


def test_login_page_query_count_is_constant(app, portal, count_queries):
    p = portal()
    client = app.test_client()
    pages = (f"{p.base}/login", f"{p.standalone}/login")  # embedded and standalone

    def counts():
        result = []
        for url in pages:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            result.append(counter)
        return result

    few = counts()
    with app.app_context():  # more of everything the page could be tempted to read
        merchant = db.session.get(Merchant, p.merchant_id)
        for n in range(3):
            profile_services.create_profile(merchant, f"Extra {n}", f"extra-{n}")
            db.session.commit()
        for n in range(30):
            customer = Customer(merchant_id=p.merchant_id, first_name="C", last_name=str(n),
                                custom_fields={})
            customer.emails = [CustomerEmail(merchant_id=p.merchant_id,
                                             address=f"c{n}@example.test")]
            db.session.add(customer)
        db.session.commit()
    many = counts()
    assert [c.count for c in few] == [c.count for c in many]
    # the merchant by its slug and the profile; no session, customer or invoice is read
    assert all(1 <= c.count <= 2 for c in many), [c.statements for c in many]
