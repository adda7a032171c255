"""Merge safety (issue #18): money records are never deleted by a cascade from their customer.

Checked twice, because a model and a migration can disagree after a merge: in the SQLAlchemy
metadata, and in the foreign keys the migrations actually built (sqlalchemy.inspect).
A table is at risk when deleting a customer row reaches it through ON DELETE CASCADE (or SET
NULL / SET DEFAULT) foreign keys, directly or through another table.
"""
from collections import defaultdict

from sqlalchemy import inspect

from widget_server.core.extensions import db

MONEY_TABLES = {"invoice", "invoice_line", "payment", "payment_allocation", "payment_method",
                "sales_order", "order_line"}
FOLLOWS_DELETE = {"CASCADE", "SET NULL", "SET DEFAULT"}


def _reached_from_customer(edges: dict[str, list[tuple[str, str | None]]]) -> dict[str, str]:
    """{table: path} for every table a customer deletion changes, by following foreign keys
    (referred table -> [(referring table, ondelete)])."""
    reached, todo = {}, [("customer", "customer")]
    while todo:
        table, path = todo.pop()
        for child, ondelete in edges[table]:
            if (ondelete or "").upper() in FOLLOWS_DELETE and child not in reached:
                reached[child] = f"{path} -[{ondelete}]-> {child}"
                todo.append((child, reached[child]))
    return reached


def _metadata_edges():
    edges = defaultdict(list)
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            edges[fk.column.table.name].append((table.name, fk.ondelete))
    return edges


def _database_edges(engine):
    inspector, edges = inspect(engine), defaultdict(list)
    tables = set(inspector.get_table_names())
    assert tables >= MONEY_TABLES, "a money table is missing from the migrated database"
    for table in tables:
        for fk in inspector.get_foreign_keys(table):
            edges[fk["referred_table"]].append((table, fk.get("options", {}).get("ondelete")))
    return edges


def _customer_fks(edges):
    return {child: ondelete for child, ondelete in edges["customer"] if child in MONEY_TABLES}


def test_no_money_table_follows_a_customer_deletion_in_the_models(app):
    at_risk = {t: p for t, p in _reached_from_customer(_metadata_edges()).items()
               if t in MONEY_TABLES}
    assert at_risk == {}
    assert {t: (o or "").upper() for t, o in _customer_fks(_metadata_edges()).items()} == {
        "invoice": "RESTRICT", "payment": "RESTRICT", "payment_method": "RESTRICT",
        "sales_order": "RESTRICT"}


def test_no_money_table_follows_a_customer_deletion_in_the_migrated_database(app):
    with app.app_context():
        edges = _database_edges(db.engine)
    at_risk = {t: p for t, p in _reached_from_customer(edges).items() if t in MONEY_TABLES}
    assert at_risk == {}
    assert {t: (o or "").upper() for t, o in _customer_fks(edges).items()} == {
        "invoice": "RESTRICT", "payment": "RESTRICT", "payment_method": "RESTRICT",
        "sales_order": "RESTRICT"}


def test_the_check_sees_a_cascade(app):
    """The check itself: a cascade, even through another table, is reported."""
    edges = defaultdict(list, {"customer": [("portal_session", "CASCADE")],
                               "portal_session": [("payment", "CASCADE")]})
    assert _reached_from_customer(edges) == {
        "portal_session": "customer -[CASCADE]-> portal_session",
        "payment": "customer -[CASCADE]-> portal_session -[CASCADE]-> payment"}
