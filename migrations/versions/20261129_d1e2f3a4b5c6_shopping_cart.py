"""The shopping cart widget (#22 item 1): products offered in the cart, and the server-side
cart of a widget session with its lines

Revision ID: d1e2f3a4b5c6
Revises: f3a4b5c6d7e8
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import UTCDateTime


revision = 'd1e2f3a4b5c6'
down_revision = 'f3a4b5c6d7e8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_cart', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'cart',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_cart_customer_id_customer'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_cart_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cart')),
        sa.UniqueConstraint('merchant_id', 'key', name=op.f('uq_cart_merchant_id_key')),
    )
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_customer_id'), ['customer_id'], unique=False)
    op.create_table(
        'cart_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cart_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.CheckConstraint('quantity >= 1', name=op.f('ck_cart_line_quantity_positive')),
        sa.ForeignKeyConstraint(['cart_id'], ['cart.id'],
                                name=op.f('fk_cart_line_cart_id_cart'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'],
                                name=op.f('fk_cart_line_product_id_product'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_line')),
        sa.UniqueConstraint('cart_id', 'product_id',
                            name=op.f('uq_cart_line_cart_id_product_id')),
    )
    with op.batch_alter_table('cart_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_line_product_id'), ['product_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('cart_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_line_product_id'))
    op.drop_table('cart_line')
    with op.batch_alter_table('cart', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_customer_id'))
    op.drop_table('cart')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('in_cart')
