"""sign_in_token: single sign-on into the widget (#25 slice d, E-8)

Revision ID: c25d8e9f0a1b
Revises: f25a4b5c6d7e
Create Date: 2026-11-29 21:00:00

"""
import sqlalchemy as sa
from alembic import op

from widget_server.core.database import UTCDateTime

revision = 'c25d8e9f0a1b'
down_revision = 'f25a4b5c6d7e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('return_url', sa.String(length=500), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.Column('cancelled_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'],
                                name=op.f('fk_sign_in_token_customer_id_customer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_sign_in_token_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_token_token_hash')),
    )
    with op.batch_alter_table('sign_in_token') as batch:
        batch.create_index(batch.f('ix_sign_in_token_customer_id'), ['customer_id'])


def downgrade():
    op.drop_table('sign_in_token')
