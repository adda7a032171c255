"""Per-merchant number sequences (issue #18): invoices today; orders, proposals, credit notes next.

A number is taken with one `UPDATE … RETURNING` on the merchant's counter row, inside the caller's
transaction: the row stays locked until that transaction ends, so two transactions never take the
same value, and a rolled-back transaction gives its value back (no gap). Nothing counts or scans
the numbered rows, so an out-of-sequence number (an import) cannot jam the sequence.
"""
from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..core.extensions import db


class Counter(db.Model):
    """The next value of one named sequence of one merchant."""

    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("merchant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    next_value: Mapped[int] = mapped_column(BigInteger)


def _take(merchant_id: int, name: str) -> int | None:
    """Increment the row and return the value before (None when the row does not exist yet)."""
    stmt = (update(Counter)
            .where(Counter.merchant_id == merchant_id, Counter.name == name)
            .values(next_value=Counter.next_value + 1)
            .returning(Counter.next_value - 1)
            .execution_options(synchronize_session=False))
    return db.session.execute(stmt).scalar()


def next_number(merchant, name: str, *, start: int = 1) -> int:
    """The next value of `merchant`'s sequence `name`, taken in the current transaction.

    The caller commits (or rolls back, giving the value back). On first use the row is
    created with `start`; when two transactions create it at once, the loser's insert fails
    inside its SAVEPOINT and it takes the winner's next value instead.
    """
    value = _take(merchant.id, name)
    if value is not None:
        return value
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Counter).values(merchant_id=merchant.id, name=name,
                                                      next_value=start + 1))
    except IntegrityError:
        value = _take(merchant.id, name)
        if value is None:  # cannot happen: the row that refused our insert is committed
            raise
        return value
    return start
