"""The admin start page: the dashboard a merchant runs receivables from (issue #24 item 1).
Figures from `billing.reports` (aggregate statements only), charts drawn here as SVG with their
numbers in tables beside them. Admins without the billing permission see the sections only."""
from datetime import timedelta

from babel.dates import format_date
from flask import render_template
from flask_login import current_user, login_required

from ..billing import reports
from ..core.money import format_money
from ..tenancy.permissions import Permission
from . import bp
from .access import current_merchant
from .charts import bar_chart

COLLECTION_DAYS = 90
REVENUE_MONTHS = 12


def _figures(merchant):
    today = merchant.today()
    money = lambda minor: format_money(minor, merchant.currency, merchant.locale)  # noqa: E731
    owed = reports.receivables(merchant, today)
    collected = reports.collections(merchant, today - timedelta(days=COLLECTION_DAYS - 1), today)
    revenue = reports.recurring_revenue(merchant, today, REVENUE_MONTHS)
    day = lambda d: format_date(d, "d MMM", locale=merchant.locale)  # noqa: E731
    month = lambda d: format_date(d, "MMM yyyy", locale=merchant.locale)  # noqa: E731
    ageing = [("Not yet due", owed.current_minor, owed.outstanding_count - owed.overdue_count)]
    ageing += [(b.label, b.amount_minor, b.count) for b in owed.ageing]
    return {
        "today": today, "money": money, "owed": owed, "ageing": ageing,
        "collected_30": sum(amount for _, amount in collected[-30:]),
        "collected": [(day(d), d, amount) for d, amount in collected],
        "revenue": [(month(d), d, amount) for d, amount in revenue],
        "activity": reports.activity(merchant, today),
        "charts": {
            "collections": bar_chart([(day(d), a) for d, a in collected],
                                     chart_id="chart-collections",
                                     title=f"Collected per day, last {COLLECTION_DAYS} days",
                                     value_label=money, every=15),
            "ageing": bar_chart([(label, amount) for label, amount, _ in ageing],
                                chart_id="chart-ageing", title="Outstanding by days past due",
                                value_label=money),
            "revenue": bar_chart([(month(d), a) for d, a in revenue], chart_id="chart-revenue",
                                 title=f"Monthly recurring revenue, last {REVENUE_MONTHS} months",
                                 value_label=money, every=2),
        },
    }


@bp.get("/")
@login_required
def index():
    merchant = current_merchant()
    figures = _figures(merchant) if current_user.can(Permission.MANAGE_BILLING) else None
    return render_template("admin/index.html", merchant=merchant, figures=figures)
