"""Order adjustments: a plan change's proration lines, waiting for the order's next invoice (#21)

Revision ID: a7c2e9d4f3b1
Revises: b3f1c7d2e8a4
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import widget_server.core.database


revision = 'a7c2e9d4f3b1'
down_revision = 'b3f1c7d2e8a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False, server_default='0'),
    sa.Column('tax_rate_bp', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('created_at', widget_server.core.database.UTCDateTime(), nullable=False),
    sa.Column('billed_invoice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_order_adjustment_order_id_sales_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_order_adjustment_merchant_id_merchant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_order_adjustment_product_id_product'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['billed_invoice_id'], ['invoice.id'], name=op.f('fk_order_adjustment_billed_invoice_id_invoice'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_adjustment'))
    )
    with op.batch_alter_table('order_adjustment', schema=None) as batch_op:
        batch_op.create_index('ix_order_adjustment_pending', ['order_id', 'billed_invoice_id'], unique=False)


def downgrade():
    with op.batch_alter_table('order_adjustment', schema=None) as batch_op:
        batch_op.drop_index('ix_order_adjustment_pending')
    op.drop_table('order_adjustment')
