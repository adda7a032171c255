"""Invoice PDFs with reportlab (W-2, P-5). DejaVu Sans is shipped with the package (its licence
beside it): reportlab's own Vera font silently drops letters such as "ż", "ę" and "ś"."""
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ..core.i18n import gettext, widget_formatting_locale
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.money import format_money
from ..tenancy.configuration import BUSINESS, merchant_settings
from . import tax
from .account import invoice_status
from .payment_history import method_words
from .tax import format_rate_in

FONTS = Path(__file__).resolve().parent.parent / "fonts"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont("DejaVu", str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
        _registered = True


# An invoice's status in the customer's language (the widget's words for them).
STATUS_WORDS = {"issued": _l("Due"), "due": _l("Due"), "paid": _l("Paid"), "void": _l("Void"),
                "draft": _l("Draft"), "partly paid": _l("Partly paid"),
                "overdue": _l("Overdue")}


def _fit(text: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis where it would run wider than `width` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _seller(merchant) -> list[str]:
    """The merchant as invoices name it: legal name (or portal name), address lines."""
    business = merchant_settings(merchant, BUSINESS)
    lines = [(business.legal_name or "").strip() or merchant.name]
    lines += [line.strip() for line in (business.address or "").splitlines() if line.strip()]
    return lines


def _buyer(customer, language: str) -> list[str]:
    """The customer's name, company and postal address, one line each."""
    lines = [customer.contact_name]
    if customer.company:
        lines.append(customer.company)
    lines += [v for v in (customer.address_line1, customer.address_line2) if v]
    city = " ".join(v for v in (customer.postal_code, customer.city) if v)
    if customer.region:
        city = f"{city}, {customer.region}" if city else customer.region
    if city:
        lines.append(city)
    if customer.country:
        try:
            lines.append(Locale.parse(language).territories.get(customer.country,
                                                                customer.country))
        except (UnknownLocaleError, ValueError):
            lines.append(customer.country)
    return lines


def render(merchant, customer, invoices, pay_links: dict[int, str]) -> bytes:
    """One page per invoice (continued on further pages when the lines run long), in the
    customer's language with the merchant's territory, as the widget's invoice page: the
    merchant's legal name, address and tax number, the customer's name and address, the lines
    with their tax rate, and under them the net, the tax per rate and the total."""
    _fonts()
    locale = widget_formatting_locale(merchant)
    tax_number = (merchant_settings(merchant, BUSINESS).tax_number or "").strip()
    seller = _seller(merchant)
    buyer = _buyer(customer, locale)
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(gettext("Invoice %(number)s", number=invoices[0].number)
                 if len(invoices) == 1 else gettext("Invoices of %(name)s", name=seller[0]))
    pdf.setAuthor(seller[0])  # the document's properties name its issuer, not "anonymous"
    pdf.setCreator(merchant.name)
    width, height = A4
    right = width - 20 * mm

    def money(minor, currency):
        return format_money(minor, currency, locale)

    def day(value):
        return format_date(value, format="medium", locale=locale) if value else "—"

    def rate(rate_bp):
        return gettext("%(rate)s %%", rate=format_rate_in(rate_bp, locale))

    for invoice in invoices:
        summary = tax.summary(invoice.lines)
        y = height - 25 * mm
        pdf.setFont("DejaVu-Bold", 14)
        pdf.drawString(20 * mm, y, _fit(seller[0], "DejaVu-Bold", 14, 105 * mm))
        pdf.setFont("DejaVu", 11)
        pdf.drawRightString(right, y, gettext("Invoice %(number)s", number=invoice.number))
        pdf.setFont("DejaVu", 9)
        for line in seller[1:8]:
            y -= 4.5 * mm
            pdf.drawString(20 * mm, y, _fit(line, "DejaVu", 9, 120 * mm))
        if tax_number:
            y -= 4.5 * mm
            pdf.drawString(20 * mm, y, gettext("Tax number: %(number)s", number=tax_number))
        y -= 10 * mm
        pdf.setFont("DejaVu-Bold", 10)
        pdf.drawString(20 * mm, y, gettext("Bill to"))
        pdf.setFont("DejaVu", 10)
        top = y
        for line in buyer[:8]:
            y -= 5 * mm
            pdf.drawString(20 * mm, y, _fit(line, "DejaVu", 10, 90 * mm))
        state = invoice_status(invoice, merchant.today())  # overdue as on the pages
        facts = (gettext("Issued %(date)s", date=day(invoice.issue_date)),
                 gettext("Due date: %(date)s", date=day(invoice.due_date)),
                 gettext("Status: %(status)s", status=str(STATUS_WORDS.get(state, state))))
        if invoice.period_start is not None:  # the service period a German invoice names
            facts += (gettext("Billing period: %(start)s – %(end)s",
                              start=day(invoice.period_start),
                              end=day(invoice.period_last_day)),)
        fy = top
        for fact in facts:
            fy -= 5 * mm
            pdf.drawRightString(right, fy, fact)
        y = min(y, fy) - 10 * mm
        columns = [(20, gettext("Item")), (100, gettext("Qty")), (130, gettext("Unit price"))]
        if summary:
            columns.append((155, gettext("Tax rate")))
        pdf.setFont("DejaVu-Bold", 9)
        pdf.drawString(20 * mm, y, columns[0][1])
        for x, text in columns[1:]:
            pdf.drawRightString(x * mm, y, text)
        pdf.drawRightString(right, y, gettext("Amount"))
        pdf.setFont("DejaVu", 9)
        for line in invoice.lines:
            y -= 6 * mm
            if y < 30 * mm:
                pdf.showPage()
                pdf.setFont("DejaVu", 9)
                y = height - 25 * mm
            pdf.drawString(20 * mm, y, _fit(line.description, "DejaVu", 9, 68 * mm))
            pdf.drawRightString(100 * mm, y, str(line.quantity))
            pdf.drawRightString(130 * mm, y, money(line.unit_price_minor, invoice.currency))
            if summary:
                pdf.drawRightString(155 * mm, y, rate(line.tax_rate_bp))
            pdf.drawRightString(right, y, money(line.amount_minor, invoice.currency))
        y -= 4 * mm
        pdf.line(105 * mm, y, right, y)
        totals = []
        if summary:
            totals.append((gettext("Net"), summary.net_minor, False))
            totals += [(gettext("Tax %(rate)s", rate=rate(r.rate_bp)), r.tax_minor, False)
                       for r in summary.rates]
        totals += [(gettext("Total"), invoice.total_minor, True),
                   (gettext("Balance"), invoice.balance_minor, True)]
        for label, minor, bold in totals:
            y -= 6 * mm
            if y < 20 * mm:
                pdf.showPage()
                y = height - 25 * mm
            pdf.setFont("DejaVu-Bold" if bold else "DejaVu", 10)
            pdf.drawString(120 * mm, y, label)
            pdf.drawRightString(right, y, money(minor, invoice.currency))
        link = pay_links.get(invoice.id)
        if link:
            y -= 12 * mm
            pdf.setFont("DejaVu", 10)
            pdf.drawString(20 * mm, y, gettext("Pay invoice:"))
            y -= 5 * mm
            pdf.setFont("DejaVu", 8)
            pdf.drawString(20 * mm, y, _fit(link, "DejaVu", 8, right - 20 * mm))
            pdf.linkURL(link, (20 * mm, y - 2, right, y + 8), relative=0)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_receipt(merchant, customer, payment, allocations) -> bytes:
    """A payment's receipt (W-12): its number, date, method and amount, and what it paid."""
    _fonts()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(_("Receipt %(number)s", number=payment.receipt_number))
    pdf.setAuthor(merchant.name)
    pdf.setCreator(merchant.name)
    width, height = A4

    def money(minor):
        return format_money(minor, payment.currency, merchant.locale)

    y = height - 25 * mm
    pdf.setFont("DejaVu-Bold", 16)
    pdf.drawString(20 * mm, y, merchant.name)
    pdf.setFont("DejaVu", 11)
    pdf.drawRightString(width - 20 * mm, y, _("Receipt %(number)s", number=payment.receipt_number))
    y -= 12 * mm
    paid_on = format_date(merchant.local_date(payment.created_at), format="medium",
                          locale=merchant.locale)
    for label, value in ((_("Customer"), customer.contact_name),
                         (_("Payment"), payment.receipt_number), (_("Date"), paid_on),
                         (_("Method"), method_words(payment)),
                         (_("Amount"), money(payment.amount_minor))):
        pdf.drawString(20 * mm, y, _("%(label)s: %(value)s", label=label, value=value))
        y -= 6 * mm
    y -= 4 * mm
    pdf.setFont("DejaVu-Bold", 10)
    pdf.drawString(20 * mm, y, _("Paid towards"))
    pdf.drawString(170 * mm, y, _("Amount"))
    pdf.setFont("DejaVu", 10)
    for item in allocations:
        y -= 6 * mm
        if y < 30 * mm:
            pdf.showPage()
            pdf.setFont("DejaVu", 10)
            y = height - 25 * mm
        pdf.drawString(20 * mm, y, _("Invoice %(number)s", number=item.invoice.number))
        pdf.drawString(170 * mm, y, money(item.amount_minor))
    credit = payment.amount_minor - sum(a.amount_minor for a in allocations)
    if credit > 0:
        y -= 6 * mm
        pdf.drawString(20 * mm, y, _("Account credit"))
        pdf.drawString(170 * mm, y, money(credit))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_credit_note(merchant, customer, note) -> bytes:
    """A credit note (#24): issuer and customer as on invoices, its number and date, the invoice
    it credits, the reason, the amount with its tax, and what it did: taken off the invoice's
    balance, and the rest as account credit. In the customer's language."""
    _fonts()
    locale = widget_formatting_locale(merchant)
    seller = _seller(merchant)
    tax_number = (merchant_settings(merchant, BUSINESS).tax_number or "").strip()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    title = gettext("Credit note %(number)s", number=note.number)
    pdf.setTitle(title)
    pdf.setAuthor(seller[0])
    pdf.setCreator(merchant.name)
    width, height = A4
    right = width - 20 * mm

    def money(minor):
        return format_money(minor, note.currency, locale)

    y = height - 25 * mm
    pdf.setFont("DejaVu-Bold", 14)
    pdf.drawString(20 * mm, y, _fit(seller[0], "DejaVu-Bold", 14, 105 * mm))
    pdf.setFont("DejaVu", 11)
    pdf.drawRightString(right, y, title)
    pdf.setFont("DejaVu", 9)
    for line in seller[1:8] + ([gettext("Tax number: %(number)s", number=tax_number)]
                               if tax_number else []):
        y -= 4.5 * mm
        pdf.drawString(20 * mm, y, _fit(line, "DejaVu", 9, 120 * mm))
    y -= 10 * mm
    pdf.setFont("DejaVu-Bold", 10)
    pdf.drawString(20 * mm, y, gettext("Credit to"))
    pdf.setFont("DejaVu", 10)
    for line in _buyer(customer, locale)[:8]:
        y -= 5 * mm
        pdf.drawString(20 * mm, y, _fit(line, "DejaVu", 10, 90 * mm))
    y -= 10 * mm
    rows = [(gettext("Date"), format_date(note.issue_date, format="medium", locale=locale)),
            (gettext("Credits invoice"), note.invoice.number),
            (gettext("Reason"), note.reason)]
    if note.tax_minor:
        rows += [(gettext("Net"), money(note.amount_minor - note.tax_minor)),
                 (gettext("Tax"), money(note.tax_minor))]
    rows += [(gettext("Credit total"), money(note.amount_minor)),
             (gettext("Taken off the invoice's balance"), money(note.applied_minor)),
             (gettext("Added to your account credit"), money(note.credit_minor))]
    for label, value in rows:
        y -= 6 * mm
        pdf.setFont("DejaVu-Bold" if label == gettext("Credit total") else "DejaVu", 10)
        pdf.drawString(20 * mm, y, label)
        pdf.drawRightString(right, y, _fit(value, "DejaVu", 10, 100 * mm))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
