"""Invoice PDFs with reportlab (W-2, P-5). DejaVu Sans is shipped with the package (its licence
beside it): reportlab's own Vera font silently drops letters such as "ż", "ę" and "ś"."""
from io import BytesIO
from pathlib import Path

from babel.dates import format_date
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ..core.money import format_money

FONTS = Path(__file__).resolve().parent.parent / "fonts"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont("DejaVu", str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
        _registered = True


def render(merchant, customer, invoices, pay_links: dict[int, str]) -> bytes:
    """One page per invoice (continued on further pages when the lines run long)."""
    _fonts()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(invoices[0].number if len(invoices) == 1 else f"Invoices of {merchant.name}")
    width, height = A4

    def money(minor, currency):
        return format_money(minor, currency, merchant.locale)

    def day(value):
        return format_date(value, format="medium", locale=merchant.locale) if value else "—"

    for invoice in invoices:
        y = height - 25 * mm
        pdf.setFont("DejaVu-Bold", 16)
        pdf.drawString(20 * mm, y, merchant.name)
        pdf.setFont("DejaVu", 11)
        pdf.drawRightString(width - 20 * mm, y, f"Invoice {invoice.number}")
        y -= 12 * mm
        for label, value in (("Customer", customer.contact_name),
                             ("Issued", day(invoice.issue_date)), ("Due", day(invoice.due_date)),
                             ("Status", invoice.status)):
            pdf.drawString(20 * mm, y, f"{label}: {value}")
            y -= 6 * mm
        y -= 4 * mm
        pdf.setFont("DejaVu-Bold", 10)
        for x, text in ((20, "Item"), (120, "Qty"), (140, "Unit price"), (170, "Amount")):
            pdf.drawString(x * mm, y, text)
        pdf.setFont("DejaVu", 10)
        for line in invoice.lines:
            y -= 6 * mm
            if y < 30 * mm:
                pdf.showPage()
                pdf.setFont("DejaVu", 10)
                y = height - 25 * mm
            pdf.drawString(20 * mm, y, line.description[:60])
            pdf.drawString(120 * mm, y, str(line.quantity))
            pdf.drawString(140 * mm, y, money(line.unit_price_minor, invoice.currency))
            pdf.drawString(170 * mm, y, money(line.amount_minor, invoice.currency))
        y -= 10 * mm
        pdf.setFont("DejaVu-Bold", 11)
        pdf.drawString(120 * mm, y, "Total")
        pdf.drawString(170 * mm, y, money(invoice.total_minor, invoice.currency))
        y -= 6 * mm
        pdf.drawString(120 * mm, y, "Balance")
        pdf.drawString(170 * mm, y, money(invoice.balance_minor, invoice.currency))
        link = pay_links.get(invoice.id)
        if link:
            y -= 12 * mm
            pdf.setFont("DejaVu", 10)
            pdf.drawString(20 * mm, y, "Pay invoice:")
            pdf.drawString(42 * mm, y, link[:95])
            pdf.linkURL(link, (42 * mm, y - 2, width - 20 * mm, y + 10), relative=0)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_receipt(merchant, customer, payment, allocations) -> bytes:
    """A payment's receipt (W-12): its number, date, method and amount, and what it paid."""
    _fonts()
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(_("Receipt %(number)s", number=payment.receipt_number))
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
                         (_("Method"), payment.method_label or payment.method),
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
