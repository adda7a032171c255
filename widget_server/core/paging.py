"""Cursor pages in id order (the API's lists, issue #25): `limit` rows after the id
`starting_after`, and whether more follow, in one statement."""
from .extensions import db


def page_after(stmt, id_column, *, limit: int, starting_after: int | None = None,
               **equal) -> tuple[list, bool]:
    """A page of `stmt` ordered by `id_column` after `starting_after`, each `equal` name not
    None narrowing it to that column's value (`customer_id=7`, `status="paid"`)."""
    entity = id_column.class_
    for name, value in equal.items():
        if value is not None:
            stmt = stmt.where(getattr(entity, name) == value)
    if starting_after is not None:
        stmt = stmt.where(id_column > starting_after)
    rows = list(db.session.scalars(stmt.order_by(id_column).limit(limit + 1)))
    return rows[:limit], len(rows) > limit
