"""A proposal as a PDF (issue #23 item 1, W-9), in the customer's language with the merchant's
territory, drawn as invoices are (`billing.pdf`: its fonts, seller and buyer blocks): the
merchant, the customer, the validity, the lines with their tax rate, the net, the tax per rate,
the total charged at acceptance and what each following period costs, and the note."""
from io import BytesIO

from babel.dates import format_date
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from ..billing import tax
from ..billing.pdf import _buyer, _fit, _fonts, _seller
from ..billing.tax import format_rate_in
from ..core.i18n import gettext, widget_formatting_locale
from ..core.money import format_money
from . import periods


def render(merchant, customer, proposal) -> bytes:
    _fonts()
    locale = widget_formatting_locale(merchant)
    seller, buyer = _seller(merchant), _buyer(customer, locale)
    title = gettext("Proposal %(number)s", number=proposal.number)
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(title)
    pdf.setAuthor(seller[0])
    pdf.setCreator(merchant.name)
    width, height = A4
    right = width - 20 * mm
    state = {"y": height - 25 * mm}

    def money(minor):
        return format_money(minor, proposal.currency, locale)

    def line_down(step, font="DejaVu", size=9):
        state["y"] -= step * mm
        if state["y"] < 25 * mm:
            pdf.showPage()
            state["y"] = height - 25 * mm
        pdf.setFont(font, size)
        return state["y"]

    pdf.setFont("DejaVu-Bold", 14)
    pdf.drawString(20 * mm, state["y"], _fit(seller[0], "DejaVu-Bold", 14, 105 * mm))
    pdf.setFont("DejaVu", 11)
    pdf.drawRightString(right, state["y"], title)
    for text in seller[1:8]:
        pdf.drawString(20 * mm, line_down(4.5), _fit(text, "DejaVu", 9, 120 * mm))
    pdf.drawString(20 * mm, line_down(10, "DejaVu-Bold", 10), gettext("Prepared for"))
    top = state["y"]
    for text in buyer[:8]:
        pdf.drawString(20 * mm, line_down(5, size=10), _fit(text, "DejaVu", 10, 90 * mm))
    facts = [gettext("Valid until %(date)s",
                     date=format_date(proposal.valid_until, format="medium", locale=locale))]
    if proposal.sent_at is not None:
        facts.insert(0, gettext("Sent %(date)s", date=format_date(
            merchant.local_date(proposal.sent_at), format="medium", locale=locale)))
    pdf.setFont("DejaVu", 10)
    for index, fact in enumerate(facts, start=1):
        pdf.drawRightString(right, top - 5 * mm * index, fact)
    state["y"] = min(state["y"], top - 5 * mm * len(facts))
    summary = tax.summary(proposal.lines)
    y = line_down(12, "DejaVu-Bold", 9)
    pdf.drawString(20 * mm, y, gettext("Item"))
    pdf.drawRightString(100 * mm, y, gettext("Qty"))
    pdf.drawRightString(130 * mm, y, gettext("Unit price"))
    if summary:
        pdf.drawRightString(155 * mm, y, gettext("Tax rate"))
    pdf.drawRightString(right, y, gettext("Amount"))
    every = periods.in_words(proposal.interval, proposal.interval_count)
    for line in proposal.lines:
        y = line_down(6)
        what = f"{line.description} ({every if line.recurring else gettext('once')})"
        pdf.drawString(20 * mm, y, _fit(what, "DejaVu", 9, 68 * mm))
        pdf.drawRightString(100 * mm, y, str(line.quantity))
        pdf.drawRightString(130 * mm, y, money(line.unit_price_minor))
        if summary:
            pdf.drawRightString(155 * mm, y, gettext(
                "%(rate)s %%", rate=format_rate_in(line.tax_rate_bp, locale)))
        pdf.drawRightString(right, y, money(line.amount_minor))
    totals = []
    if summary:
        totals.append((gettext("Net"), summary.net_minor, False))
        totals += [(gettext("Tax %(rate)s", rate=gettext(
            "%(rate)s %%", rate=format_rate_in(r.rate_bp, locale))), r.tax_minor, False)
            for r in summary.rates]
    totals.append((gettext("Total"), proposal.total_minor, True))
    if proposal.period_minor and proposal.period_minor != proposal.total_minor:
        totals.append((gettext("Then %(period)s", period=every), proposal.period_minor, False))
    for label, minor, bold in totals:
        y = line_down(6, "DejaVu-Bold" if bold else "DejaVu", 10)
        pdf.drawString(110 * mm, y, label)
        pdf.drawRightString(right, y, money(minor))
    if proposal.note:
        pdf.drawString(20 * mm, line_down(12, "DejaVu-Bold", 10), gettext("Note"))
        for paragraph in proposal.note.splitlines():
            for text in simpleSplit(paragraph, "DejaVu", 9, right - 20 * mm) or [""]:
                pdf.drawString(20 * mm, line_down(5, size=9), text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
