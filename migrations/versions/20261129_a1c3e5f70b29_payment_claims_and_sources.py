"""payment claims on invoices and payment sources

One payment in flight per invoice (#18 defect 1): `invoice.payment_claim_id` is taken by a
conditional UPDATE before the gateway is called. `payment.source` says where a payment came
from instead of idempotency-key prefixes; existing rows are classified by those prefixes.

Revision ID: a1c3e5f70b29
Revises: 9b22db012c24
Create Date: 2026-11-29 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1c3e5f70b29'
down_revision = '9b22db012c24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_claim_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='browser',
                                      nullable=False))
    op.execute("UPDATE payment SET source = 'autopay' WHERE idempotency_key LIKE 'autopay-%'")
    op.execute("UPDATE payment SET source = 'credit' WHERE idempotency_key LIKE 'credit-%'")
    op.execute("UPDATE payment SET source = 'schedule' WHERE source = 'browser' "
               "AND scheduled_for IS NOT NULL")


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('payment_claim_id')
