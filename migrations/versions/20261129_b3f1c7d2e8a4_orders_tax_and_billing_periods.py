"""Orders as subscriptions, tax on lines, billing periods on invoices, recurring prices (#21)

- product: tax rate, recurring interval;
- invoice_line / order_line: net, tax rate and tax beside the gross `amount_minor` (old lines:
  rate 0, net = gross);
- sales_order: start/end dates, billing interval and anchor, next billing date, cancellation;
  statuses become active / cancelled / ended (an old "open" order is active, an "invoiced" one
  ended: it was a one-time order already billed);
- invoice: the order and period it bills, unique together (one invoice per order per period).

Revision ID: b3f1c7d2e8a4
Revises: 0b5e7d3a9f14
Create Date: 2026-11-29 17:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b3f1c7d2e8a4'
down_revision = '0b5e7d3a9f14'
branch_labels = None
depends_on = None


def _tax_columns(batch):
    batch.add_column(sa.Column('net_minor', sa.BigInteger(), nullable=False, server_default='0'))
    batch.add_column(sa.Column('tax_rate_bp', sa.Integer(), nullable=False, server_default='0'))
    batch.add_column(sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'))


def upgrade():
    with op.batch_alter_table('product') as batch:
        batch.add_column(sa.Column('tax_rate_bp', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('interval', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('interval_count', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.create_check_constraint(op.f('ck_product_tax_rate_in_range'),
                                      'tax_rate_bp >= 0 AND tax_rate_bp <= 10000')
        batch.create_check_constraint(op.f('ck_product_interval_count_positive'), 'interval_count >= 1')
    with op.batch_alter_table('invoice_line') as batch:
        _tax_columns(batch)
    with op.batch_alter_table('order_line') as batch:
        _tax_columns(batch)
        batch.add_column(sa.Column('recurring', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute('UPDATE invoice_line SET net_minor = amount_minor')
    op.execute('UPDATE order_line SET net_minor = amount_minor')

    with op.batch_alter_table('sales_order') as batch:
        batch.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('end_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('interval', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('interval_count', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.add_column(sa.Column('anchor_day', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.add_column(sa.Column('next_billing_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))
        batch.create_check_constraint(op.f('ck_sales_order_interval_count_positive'), 'interval_count >= 1')
        batch.create_index('ix_order_due', ['status', 'next_billing_date', 'id'])
    op.execute("UPDATE sales_order SET status = 'active' WHERE status = 'open'")
    op.execute("UPDATE sales_order SET status = 'ended' WHERE status = 'invoiced'")

    with op.batch_alter_table('invoice') as batch:
        batch.add_column(sa.Column('order_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch.create_foreign_key('fk_invoice_order_id_sales_order', 'sales_order',
                                 ['order_id'], ['id'], ondelete='RESTRICT')
        batch.create_index('ix_invoice_order_id', ['order_id'])
        batch.create_unique_constraint('uq_invoice_order_period', ['order_id', 'period_start'])


def downgrade():
    with op.batch_alter_table('invoice') as batch:
        batch.drop_constraint('uq_invoice_order_period', type_='unique')
        batch.drop_index('ix_invoice_order_id')
        batch.drop_constraint('fk_invoice_order_id_sales_order', type_='foreignkey')
        batch.drop_column('period_end')
        batch.drop_column('period_start')
        batch.drop_column('order_id')
    op.execute("UPDATE sales_order SET status = 'open' WHERE status = 'active'")
    op.execute("UPDATE sales_order SET status = 'invoiced' WHERE status = 'ended'")
    with op.batch_alter_table('sales_order') as batch:
        batch.drop_index('ix_order_due')
        batch.drop_constraint(op.f('ck_sales_order_interval_count_positive'), type_='check')
        for column in ('cancelled_at', 'next_billing_date', 'anchor_day', 'interval_count',
                       'interval', 'end_date', 'start_date'):
            batch.drop_column(column)
    with op.batch_alter_table('order_line') as batch:
        for column in ('recurring', 'tax_minor', 'tax_rate_bp', 'net_minor'):
            batch.drop_column(column)
    with op.batch_alter_table('invoice_line') as batch:
        for column in ('tax_minor', 'tax_rate_bp', 'net_minor'):
            batch.drop_column(column)
    with op.batch_alter_table('product') as batch:
        batch.drop_constraint(op.f('ck_product_interval_count_positive'), type_='check')
        batch.drop_constraint(op.f('ck_product_tax_rate_in_range'), type_='check')
        for column in ('interval_count', 'interval', 'tax_rate_bp'):
            batch.drop_column(column)
