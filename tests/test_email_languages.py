"""The customer's emails in the customer's language (issue #20 item 5, B-5): the default texts
translated, amounts and dates written in that language, `lang` on the HTML part; the language
recorded from the customer's widget requests, else the merchant's; a merchant's own texts used
as written."""
from datetime import date

from sqlalchemy import select

from tests.conftest import widget_login
from tests.payment_support import CARD, hidden_fields
from widget_server.billing import issuing
from widget_server.billing.invoices import build_invoice
from widget_server.billing.models import Payment
from widget_server.catalogue.models import Product
from widget_server.core.extensions import db
from widget_server.customers.models import Customer
from widget_server.jobs import queue
from widget_server.notifications import templates
from widget_server.notifications.models import EmailMessage
from widget_server.tenancy.models import Merchant

NBSP = "\xa0"  # Babel writes "164,60 €" with a no-break space


def _issue_invoice(app, p, *, locale, currency="EUR", languages=None, language=None,
                   override=None):
    """Issue an invoice of 164.60 due on 5 March 2027 to the portal's customer; returns the
    queued Invoice Issued emails."""
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.currency, merchant.name = locale, currency, "Acme"
        if languages is not None:
            merchant.config = {**(merchant.config or {}), "portal": {"languages": languages}}
        if override is not None:
            templates.save_override(merchant, "invoice_issued", *override)
        customer = db.session.get(Customer, p.customer_id)
        customer.language = language
        product = Product(merchant_id=merchant.id, sku="S", name="Service",
                          unit_price_minor=16460, currency=currency)
        db.session.add(product)
        db.session.flush()
        invoice = build_invoice(merchant, customer, [(product, 1)], number="INV-7",
                                issue_date=None, due_date=date(2027, 3, 5), status="draft")
        db.session.flush()
        issuing.issue(merchant, invoice, date(2027, 2, 5))
        db.session.commit()
        number = invoice.number
        emails = list(db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "invoice_issued").order_by(EmailMessage.id)))
        db.session.expunge_all()
        return number, emails


def test_a_german_customers_invoice_email_is_german_and_sent_so(app, portal, smtp):
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="de_DE")
    assert email.subject == f"Rechnung {number} von Acme"
    assert email.text_body.startswith("Guten Tag Jane Doe,")
    assert f"über 164,60{NBSP}€ ist am 05.03.2027 fällig" in email.text_body
    assert "Rechnung bezahlen: http" in email.text_body
    assert email.html_body.startswith('<!doctype html>\n<html lang="de">')
    with app.app_context():
        queue.run_due()  # delivered through a real SMTP server
    [received] = [m for to, m in smtp.messages if to == [email.to_address]]
    assert received["Subject"] == f"Rechnung {number} von Acme"
    html = received.get_body(("html",)).get_content()
    assert '<html lang="de">' in html and "über 164,60&nbsp;€ ist am 05.03.2027" in html
    assert f"164,60{NBSP}€" in received.get_body(("plain",)).get_content()


def test_a_french_customers_invoice_email_is_french(app, portal):
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="fr_FR")
    assert email.subject == f"Facture {number} de Acme"
    assert email.text_body.startswith("Bonjour Jane Doe,")
    assert "164,60" in email.text_body and "€" in email.text_body
    assert "à régler le 5 mars 2027" in email.text_body
    assert email.html_body.startswith('<!doctype html>\n<html lang="fr">')


def test_the_customers_recorded_language_wins_among_the_merchants(app, portal):
    """A German merchant with French enabled: a customer whose widget speaks French gets French
    emails, amounts and dates in French with the merchant's territory (fr_DE)."""
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="de_DE", languages=["de", "fr"],
                                         language="fr")
    assert email.subject == f"Facture {number} de Acme"
    assert "à régler le 5 mars 2027" in email.text_body
    assert email.html_body.startswith('<!doctype html>\n<html lang="fr">')


def test_a_language_the_merchant_no_longer_enables_falls_back_to_the_merchants(app, portal):
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="de_DE", languages=["de"],
                                         language="fr")
    assert email.subject == f"Rechnung {number} von Acme"
    assert email.html_body.startswith('<!doctype html>\n<html lang="de">')


def test_an_english_merchants_email_stays_english(app, portal):
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="en_US", currency="USD")
    assert email.subject == f"Invoice {number} from Acme"
    assert f"Invoice {number} for $164.60 is due on Mar 5, 2027." in email.text_body
    assert email.html_body.startswith('<!doctype html>\n<html lang="en">')


def test_a_customised_template_is_used_as_written(app, portal):
    """The merchant's own text is not translated; its values and `lang` follow the language."""
    p = portal()
    number, [email, *_] = _issue_invoice(app, p, locale="de_DE", override=(
        "Your bill {{ invoice_number }}", "Dear {{ contact_name }}, pay {{ amount }} by "
        "{{ due_date }}."))
    assert email.subject == f"Your bill {number}"
    assert email.text_body == f"Dear Jane Doe, pay 164,60{NBSP}€ by 05.03.2027."
    assert email.html_body.startswith('<!doctype html>\n<html lang="de">')


def _receipt(app, p, **kwargs):
    page = p.client.get(f"{p.base}/pay", **kwargs).get_data(as_text=True)
    response = p.client.post(f"{p.base}/pay", data={**hidden_fields(page), **CARD,
                                                     "invoice": str(p.invoice_ids[0])},
                             **kwargs)
    assert response.status_code == 200
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        [email, *_] = db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "payment_receipt"))
        return payment.receipt_number, email


def _german_merchant(app, p, languages=None):
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.name = "de_DE", "Acme"
        if languages is not None:
            merchant.config = {**(merchant.config or {}), "portal": {"languages": languages}}
        db.session.commit()


def test_a_german_customers_payment_receipt_is_german(app, billed):
    _german_merchant(app, billed)
    billed.client.get(f"{billed.base}/")  # the widget, now German, records the language
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).language == "de"
    number, email = _receipt(app, billed)
    assert email.subject == "Beleg für Ihre Zahlung an Acme"
    today = date.today().strftime("%d.%m.%Y")
    assert f"Wir haben am {today} 50,00{NBSP}$ erhalten (Zahlungsnummer {number})" in \
        email.text_body
    assert email.html_body.startswith('<!doctype html>\n<html lang="de">')


def test_the_widgets_language_on_sign_in_is_the_receipts(app, billed):
    """A German merchant with French enabled; the customer's browser prefers French."""
    _german_merchant(app, billed, languages=["de", "fr"])
    french = {"headers": {"Accept-Language": "fr-FR,fr;q=0.9"}}
    billed.client = app.test_client()
    assert widget_login(billed.client, billed.base, billed.username, billed.password,
                        **french).status_code == 302
    with app.app_context():
        assert db.session.get(Customer, billed.customer_id).language == "fr"  # on sign-in
    _number, email = _receipt(app, billed, **french)
    assert email.subject == "Reçu de votre paiement à Acme"
    assert email.html_body.startswith('<!doctype html>\n<html lang="fr">')
    billed.client.get(f"{billed.base}/", headers={"Accept-Language": "de"})
    with app.app_context():  # the next request in German: German from now on
        assert db.session.get(Customer, billed.customer_id).language == "de"


def test_an_invitation_with_the_shipped_texts_speaks_each_customers_language(app, portal):
    """The invitation's texts come from the admin's form: the shipped defaults, unchanged, are
    translated per customer; anything the merchant wrote is sent as written."""
    from widget_server.customers import invitations
    from widget_server.tenancy.configuration import INVITATIONS

    p = portal()
    subject = INVITATIONS.setting("invitation_subject").default
    body = INVITATIONS.setting("invitation_body").default.replace("\n", "\r\n")  # a textarea's
    with app.app_context():
        merchant = db.session.get(Merchant, p.merchant_id)
        merchant.locale, merchant.name = "de_DE", "Acme"
        customer = db.session.get(Customer, p.customer_id)
        invitations.send(merchant, "owner@acme.test", [customer], subject, body)
        invitations.send(merchant, "owner@acme.test", [customer], "Hallo {{ contact_name }}",
                         "Unser Portal: {{ portal_link }}")
        db.session.commit()
        shipped, own = [next(m for m in db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "invitation").order_by(EmailMessage.id))
            if m.subject == wanted) for wanted in ("Ihr Kundenportal bei Acme",
                                                    "Hallo Jane Doe")]
    assert shipped.text_body.startswith("Guten Tag Jane Doe,")
    assert "Mit freundlichen Grüßen" in shipped.text_body
    assert own.text_body.startswith("Unser Portal: http")
    assert own.html_body.startswith('<!doctype html>\n<html lang="de">')


def test_a_failed_scheduled_payment_is_explained_in_german_by_email_and_on_the_pages(app, billed):
    """The reason is stored in English (the admin's record) and reaches a German customer in
    German: the Payment Failed email, the payment history; a kept bank account is a "Bankkonto"."""
    from datetime import UTC, datetime, timedelta

    from tests.payment_support import pay_form, set_payment

    _german_merchant(app, billed)
    set_payment(app, billed, {"edit_effective_date": True})
    later = date.today() + timedelta(days=2)
    response = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), **CARD, "card_number": "4000 0000 0000 9995", "save_method": "y",
        "invoice": str(billed.invoice_ids[0]), "payment_date": later.strftime("%d.%m.%Y")})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        queue.run_due(datetime.now(UTC) + timedelta(days=400))
        payment = db.session.scalar(select(Payment))
        [email, *_] = db.session.scalars(select(EmailMessage).where(
            EmailMessage.email_type == "payment_failed"))
    assert payment.failure_message == "The payment was declined for insufficient funds."
    assert "Die Zahlung wurde wegen unzureichender Deckung abgelehnt." in email.text_body
    assert "insufficient" not in email.text_body
    history = billed.client.get(f"{billed.base}/payments").get_data(as_text=True)
    assert "Die Zahlung wurde wegen unzureichender Deckung abgelehnt." in history
    kept = billed.client.post(f"{billed.base}/pay", data={
        **pay_form(billed), "method": "ach", "routing_number": "110000000",
        "account_number": "000123456789", "invoice": str(billed.invoice_ids[1]),
        "save_method": "y"})
    assert "Bankkonto •••• 6789" in kept.get_data(as_text=True)  # the thank-you page
    methods = billed.client.get(f"{billed.base}/methods").get_data(as_text=True)
    assert "Bankkonto •••• 6789" in methods and "Bank account" not in methods
