"""The customer's New Order form key on the order: a double submit makes one order (#21 item 5)

Revision ID: c5d9a1e7f3b2
Revises: a7c2e9d4f3b1
Create Date: 2026-11-29 17:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5d9a1e7f3b2'
down_revision = 'a7c2e9d4f3b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_sales_order_merchant_id_customer_id_request_key'),
            ['merchant_id', 'customer_id', 'request_key'])


def downgrade():
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_sales_order_merchant_id_customer_id_request_key'), type_='unique')
        batch_op.drop_column('request_key')
