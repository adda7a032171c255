"""sales_order (merchant_id, id): the admin's orders list walks one merchant's orders by id

Found by the billing-run benchmark's EXPLAIN (#21): the list had only the customer's index and
the billing run's, so on a table shared by many merchants it read other merchants' rows.

Revision ID: f3a4b5c6d7e8
Revises: e7f8a9b0c1d2
Create Date: 2026-11-29 18:10:00

"""
from alembic import op


revision = 'f3a4b5c6d7e8'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_order') as batch:
        batch.create_index('ix_order_merchant_keyset', ['merchant_id', 'id'])


def downgrade():
    with op.batch_alter_table('sales_order') as batch:
        batch.drop_index('ix_order_merchant_keyset')
