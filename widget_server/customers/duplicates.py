"""Likely duplicate customers (issue #23 item 5): records of one merchant sharing a Primary
Email address, or the same folded name and phone digits (`matching.duplicate_key`).

One query for a whole page of customers, whatever its size: the customer list flags each row's
likely twins with a link to compare and merge them.
"""
from dataclasses import dataclass

from sqlalchemy import and_, literal, select, union_all
from sqlalchemy.orm import aliased

from ..core.extensions import db
from .models import Customer, CustomerEmail

SAME_EMAIL, SAME_NAME_AND_PHONE = "same email address", "same name and phone"


@dataclass(frozen=True)
class Hint:
    other_id: int
    other_name: str
    reason: str


def _name(first: str, last: str, company: str) -> str:
    name = f"{first} {last}".strip()
    return f"{name} ({company})" if company else name


def likely_duplicates(merchant, customer_ids: list[int]) -> dict[int, list[Hint]]:
    """{customer id: [Hint, …]} for the given customers: the merchant's other current records
    (not archived, not merged) that look like the same person. One query."""
    if not customer_ids:
        return {}
    mine, twin = aliased(Customer), aliased(Customer)
    current = (twin.merchant_id == merchant.id, twin.merged_into_id.is_(None),
               twin.archived_at.is_(None))
    columns = (twin.id, twin.first_name, twin.last_name, twin.company)
    own, other = aliased(CustomerEmail), aliased(CustomerEmail)
    by_email = (select(own.customer_id.label("customer_id"), *columns,
                       literal(SAME_EMAIL).label("reason"))
                .join(other, and_(other.merchant_id == own.merchant_id,
                                  other.address == own.address,
                                  other.customer_id != own.customer_id))
                .join(twin, twin.id == other.customer_id)
                .where(own.merchant_id == merchant.id, own.customer_id.in_(customer_ids),
                       *current))
    by_name = (select(mine.id.label("customer_id"), *columns,
                      literal(SAME_NAME_AND_PHONE).label("reason"))
               .join(twin, and_(twin.merchant_id == mine.merchant_id,
                                twin.duplicate_key == mine.duplicate_key, twin.id != mine.id))
               .where(mine.merchant_id == merchant.id, mine.id.in_(customer_ids),
                      mine.duplicate_key.is_not(None), *current))
    hints: dict[int, dict[int, Hint]] = {}
    for customer_id, other_id, first, last, company, reason in db.session.execute(
            union_all(by_email, by_name)):
        found = hints.setdefault(customer_id, {})
        if other_id not in found or reason == SAME_EMAIL:  # the stronger evidence
            found[other_id] = Hint(other_id, _name(first, last, company), reason)
    return {cid: sorted(found.values(), key=lambda h: h.other_id) for cid, found in hints.items()}
