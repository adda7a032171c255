"""customer.search_text (folded name, company, username) and merchant-wide keyset indexes on
invoice and payment: the admin finds "Łukasiewicz" by typing "lukas" on SQLite and PostgreSQL,
and walks one merchant's invoices and payments by id (#24 item 2)

Revision ID: a24a1b2c3d4e
Revises: d24d3e4f5a6b
Create Date: 2026-11-29 20:30:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.customers.matching import duplicate_key, search_text


revision = "a24a1b2c3d4e"
down_revision = 'd24d3e4f5a6b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.String(length=600), nullable=False,
                                      server_default=""))
        batch_op.create_index("ix_customer_search_text", ["merchant_id", "search_text"],
                              unique=False)
    customer = sa.table("customer", sa.column("id", sa.Integer()),
                        sa.column("first_name", sa.String()), sa.column("last_name", sa.String()),
                        sa.column("company", sa.String()), sa.column("username", sa.String()),
                        sa.column("phone", sa.String()), sa.column("search_text", sa.String()),
                        sa.column("duplicate_key", sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(customer.c.id, customer.c.first_name, customer.c.last_name,
                                  customer.c.company, customer.c.username,
                                  customer.c.phone)).all()
    # the duplicate keys again too: folding now reads "Ł" as "l" (the same `fold`)
    for row_id, first, last, company, username, phone in rows:
        conn.execute(customer.update().where(customer.c.id == row_id).values(
            search_text=search_text(first, last, company, username),
            duplicate_key=duplicate_key(first, last, phone)))
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_merchant_keyset", ["merchant_id", "id"], unique=False)
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_merchant_keyset", ["merchant_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_merchant_keyset")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_merchant_keyset")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_search_text")
        batch_op.drop_column("search_text")
