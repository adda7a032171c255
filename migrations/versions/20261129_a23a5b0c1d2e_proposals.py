"""Proposals (quotes) and their lines (#23 item 1, W-9)

Revision ID: a23a5b0c1d2e
Revises: c23c7d2e3f40
Create Date: 2026-11-29 20:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import UTCDateTime


revision = 'a23a5b0c1d2e'
down_revision = 'c23c7d2e3f40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('interval', sa.String(length=8), nullable=True),
        sa.Column('interval_count', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('note', sa.String(length=2000), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.Column('net_minor', sa.BigInteger(), nullable=False),
        sa.Column('tax_minor', sa.BigInteger(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('sent_at', UTCDateTime(), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('accepted_name', sa.String(length=200), nullable=True),
        sa.Column('accepted_ip', sa.String(length=64), nullable=True),
        sa.Column('decline_reason', sa.String(length=1000), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'sent', 'accepted', 'declined')",
                           name=op.f('ck_proposal_status_known')),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_proposal_customer_id_customer'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_proposal_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'],
                                name=op.f('fk_proposal_order_id_sales_order'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal')),
        sa.UniqueConstraint('merchant_id', 'number',
                            name=op.f('uq_proposal_merchant_id_number')),
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_customer_keyset',
                              ['merchant_id', 'customer_id', 'id'], unique=False)
        batch_op.create_index('ix_proposal_merchant_keyset', ['merchant_id', 'id'],
                              unique=False)
    op.create_table(
        'proposal_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
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
        sa.Column('recurring', sa.Boolean(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'],
                                name=op.f('fk_proposal_line_proposal_id_proposal'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_proposal_line_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'],
                                name=op.f('fk_proposal_line_product_id_product'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_line')),
    )
    with op.batch_alter_table('proposal_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_line_proposal_id'), ['proposal_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('proposal_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_line_proposal_id'))
    op.drop_table('proposal_line')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_merchant_keyset')
        batch_op.drop_index('ix_proposal_customer_keyset')
    op.drop_table('proposal')
