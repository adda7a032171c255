"""Schemathesis over the served OpenAPI document (issue #25 "tests that must exist"), in
process against the WSGI app, bounded: no 5xx, only documented statuses, content types and
bodies, with a live key and without one."""
import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from widget_server.billing import invoices as billing
from widget_server.billing import payments
from widget_server.catalogue.models import Product
from widget_server.commerce import orders as order_services
from widget_server.commerce import proposals as proposal_services
from widget_server.core.extensions import db
from widget_server.customers import fields as field_service
from widget_server.customers.models import Customer
from widget_server.tenancy import api_keys
from widget_server.tenancy.models import Merchant

MAX_EXAMPLES = 25  # per operation: the whole test stays within seconds
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def secret(app, make_merchant):
    merchant_id, _ = make_merchant("acme")
    with app.app_context():
        merchant = db.session.get(Merchant, merchant_id)
        field_service.create_definition(merchant, name="Tier", field_type="choice",
                                        required=False, choices=["gold"])
        # objects with small ids, which the generated requests name (#25 slice b)
        customer = Customer(merchant_id=merchant.id, first_name="Ann", last_name="Fuzz",
                            custom_fields={})
        product = Product(merchant_id=merchant.id, sku="mug", name="Mug", unit_price_minor=100,
                          currency=merchant.currency, tax_rate_bp=0)
        db.session.add_all([customer, product])
        db.session.flush()
        billing.create_draft(merchant, customer, [(product.id, 1)], None)
        payments.record_offline(merchant, customer, [], 100, method="cash", reference="",
                                received_on=merchant.today(), idempotency_key="fuzz")
        order_services.place(merchant, customer, [order_services.Item(product.id, 1)],
                             merchant.today())
        proposal_services.create(merchant, customer, [order_services.Item(product.id, 1)],
                                 valid_until=merchant.today(), note="", today=merchant.today())
        _made, secret = api_keys.create_key(merchant, "Fuzz")
        db.session.commit()
    return secret


def test_the_api_answers_only_what_it_documents(app, secret):
    """Each operation of the served document, a bounded number of generated requests each,
    fitting the schemas and not (the pytest plugin's lazy fixtures do not run under
    pytest 9: the loop is by hand)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation, mode in itertools.product(operations, GenerationMode):
        @given(case=operation.as_strategy(mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {secret}"},
                                   checks=CHECKS)
            case.call_and_validate(headers={"Authorization": "Bearer sk_live_nope"},
                                   checks=CHECKS)

        run()
