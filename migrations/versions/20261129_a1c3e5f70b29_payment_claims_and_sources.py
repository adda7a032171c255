"""payment claims on invoices and payment sources

One payment in flight per invoice (#18 defect 1): `invoice.payment_claim_id` is taken by a
conditional UPDATE before the gateway is called. `payment.source` says where a payment came
from instead of idempotency-key prefixes; existing rows are classified by those prefixes.

Revision ID: a1c3e5f70b29
Revises: 9b22db012c24
Create Date: 2026-11-29 14:20:00

"""
import json

from alembic import op
import sqlalchemy as sa

from widget_server.core.database import JSONType


revision = 'a1c3e5f70b29'
down_revision = '9b22db012c24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_claim_id', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_invoice_payment_claim_id', ['payment_claim_id'], unique=False)
    _claim_for_pending_payments()
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='browser',
                                      nullable=False))
    op.execute("UPDATE payment SET source = 'autopay' WHERE idempotency_key LIKE 'autopay-%'")
    op.execute("UPDATE payment SET source = 'credit' WHERE idempotency_key LIKE 'credit-%'")
    op.execute("UPDATE payment SET source = 'schedule' WHERE source = 'browser' "
               "AND scheduled_for IS NOT NULL")


def _claim_for_pending_payments():
    """A payment pending at upgrade time (a bank debit processing, a charge whose answer was
    lost) keeps its invoices "in progress": it claims them as a new payment would, or the Pay
    page would offer them again and a second charge would become credit."""
    bind = op.get_bind()
    payment = sa.table('payment', sa.column('id', sa.Integer), sa.column('status', sa.String),
                       sa.column('plan', JSONType), sa.column('customer_id', sa.Integer))
    invoice = sa.table('invoice', sa.column('id', sa.Integer), sa.column('customer_id', sa.Integer),
                       sa.column('status', sa.String), sa.column('balance_minor', sa.BigInteger),
                       sa.column('payment_claim_id', sa.BigInteger))
    pending = bind.execute(sa.select(payment.c.id, payment.c.plan, payment.c.customer_id)
                           .where(payment.c.status == 'pending').order_by(payment.c.id)).all()
    for row in pending:
        plan = row.plan if isinstance(row.plan, dict) else json.loads(row.plan or "{}")
        ids = [i for i in (plan or {}).get('invoice_ids', []) if isinstance(i, int)]
        if ids:
            bind.execute(invoice.update().where(
                invoice.c.id.in_(ids), invoice.c.customer_id == row.customer_id,
                invoice.c.status == 'issued', invoice.c.balance_minor > 0,
                invoice.c.payment_claim_id.is_(None)).values(payment_claim_id=row.id))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_payment_claim_id')
        batch_op.drop_column('payment_claim_id')
