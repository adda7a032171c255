"""Finding things in the admin (issue #24 item 2): the invoice list (customer column, search,
filters by status in words, overdue, dates and customer, a "New invoice" button), the payments
list, and CSV exports of the filtered invoices, payments and customers, streamed in batches."""
import csv
import io
from datetime import date

from flask import Response, abort, render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Length, Optional

from ..billing import finding
from ..billing.models import PAYMENT_STATUSES, Invoice, Payment
from ..customers import services as customer_services
from ..tenancy.permissions import Permission
from ..web.form_fields import LocalDateField, TrimmedField, select_choices
from ..web.request_guards import optional_id
from . import bp
from .access import current_merchant, permission_required
from .words import INVOICE_WORDS, PAYMENT_WORDS, admin_payment_status, invoice_words

BILLING = Permission.MANAGE_BILLING
PAGE = 50
# A cell a spreadsheet would run as a formula (CSV injection) starts with one of these: it is
# written after an apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _merchant_locale():
    return current_merchant().locale


def _date_field(label):
    return LocalDateField(label, validators=[Optional()], locale=_merchant_locale,
                          render_kw={"autocomplete": "off", "size": 10})


class FindForm(FlaskForm):
    """The filters of a list, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = TrimmedField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", validators=[Optional()])
    date_from = _date_field("From")
    date_to = _date_field("To")
    due_from = _date_field("Due from")
    due_to = _date_field("Due to")


def _filters(words: dict) -> tuple[FindForm, finding.Filters, object]:
    """The page's filter form and what it asks for; a date that does not parse is left out
    (and shown as an error beside its field)."""
    form = FindForm(request.args)
    form.status.choices = select_choices([("", "Any"), *words.items()])
    form.validate()
    merchant = current_merchant()
    customer_id = optional_id(request.args.get("customer"))
    customer = customer_services.get_customer(merchant, customer_id) if customer_id else None
    if customer_id and customer is None:
        abort(404)

    def day(field) -> date | None:
        return None if field.errors else field.data

    status = form.status.data if form.status.data in words else ""
    return form, finding.Filters(
        query=(form.q.data or "")[:200] if not form.q.errors else "", status=status,
        customer_id=customer_id, date_from=day(form.date_from), date_to=day(form.date_to),
        due_from=day(form.due_from), due_to=day(form.due_to)), customer


def _args(form: FindForm, customer, **extra) -> dict:
    """The query string that keeps the page's filters (for the pager and the export)."""
    args = {name: request.args.get(name) for name in form.data if request.args.get(name)}
    if customer is not None:
        args["customer"] = customer.id
    return {**args, **extra}


@bp.get("/invoices")
@permission_required(BILLING)
def invoices():
    merchant = current_merchant()
    form, filters, customer = _filters(INVOICE_WORDS)
    form.date_from.label.text, form.date_to.label.text = "Issued from", "Issued to"
    today = merchant.today()
    before = optional_id(request.args.get("before"))
    rows, next_before = finding.page(finding.invoices_statement(merchant, filters, today),
                                     Invoice, before, PAGE)
    return render_template("admin/invoices/list.html", rows=rows, form=form, customer=customer,
                           filters=filters, before=before, next_before=next_before,
                           args=_args(form, customer), filtered=_is_filtered(filters))


def _is_filtered(filters: finding.Filters) -> bool:
    return any((filters.query, filters.status, filters.customer_id, filters.date_from,
                filters.date_to, filters.due_from, filters.due_to))


@bp.get("/invoices/new")
@permission_required(BILLING)
def invoice_pick():
    """"New invoice" from the list: choose the customer, then the customer's new-invoice form."""
    query = request.args.get("q", "")[:200].strip()
    found = customer_services.search_customers(current_merchant(), query, 1, 20) if query \
        else None
    return render_template("admin/invoices/pick.html", query=query, found=found)


@bp.get("/payments")
@permission_required(BILLING)
def payments():
    merchant = current_merchant()
    form, filters, customer = _filters(PAYMENT_WORDS)
    before = optional_id(request.args.get("before"))
    rows, next_before = finding.page(finding.payments_statement(merchant, filters), Payment,
                                     before, PAGE)
    return render_template("admin/payments/list.html", rows=rows, form=form, customer=customer,
                           filters=filters, before=before, next_before=next_before,
                           args=_args(form, customer), filtered=_is_filtered(filters),
                           statuses=PAYMENT_STATUSES)


# --- CSV exports -----------------------------------------------------------------------------

def safe_cell(value) -> str:
    """A cell as text, never a formula: "=HYPERLINK(...)" is written "'=HYPERLINK(...)"."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_response(rows, filename: str) -> Response:
    """Stream `rows` (an iterator of tuples) as a CSV download, one line at a time: the rows
    come from the database in batches (on a connection of their own, `billing.finding`), so
    the export's memory does not grow with its size, and a download dropped unread leaves the
    request's session alone."""
    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"  # spreadsheets read the file as UTF-8
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(lines(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def _stamp() -> str:
    return current_merchant().today().isoformat()


@bp.get("/invoices.csv")
@permission_required(BILLING)
def invoices_csv():
    merchant = current_merchant()
    _, filters, _customer = _filters(INVOICE_WORDS)
    return csv_response(finding.invoice_rows(merchant, filters, merchant.today(), invoice_words),
                        f"invoices-{_stamp()}.csv")


@bp.get("/payments.csv")
@permission_required(BILLING)
def payments_csv():
    _, filters, _customer = _filters(PAYMENT_WORDS)
    return csv_response(finding.payment_rows(current_merchant(), filters, admin_payment_status),
                        f"payments-{_stamp()}.csv")


@bp.get("/customers.csv")
@permission_required(Permission.MANAGE_CUSTOMERS)
def customers_csv():
    query = request.args.get("q", "")[:200]
    archived = request.args.get("archived") == "1"
    return csv_response(finding.customer_rows(current_merchant(), query, archived),
                        f"customers-{_stamp()}.csv")
