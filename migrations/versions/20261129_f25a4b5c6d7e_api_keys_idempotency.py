"""api_key and idempotency_key: the merchant's REST API (#25 slice a, A-1, A-3)

Revision ID: f25a4b5c6d7e
Revises: b24b2c3d4e5f
Create Date: 2026-11-29 20:50:00

"""
import sqlalchemy as sa
from alembic import op

from widget_server.core.database import UTCDateTime

revision = 'f25a4b5c6d7e'
down_revision = 'b24b2c3d4e5f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('last_used_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['admin_user.id'],
                                name=op.f('fk_api_key_created_by_id_admin_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_api_key_merchant_id_merchant'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_api_key_secret_hash')),
    )
    with op.batch_alter_table('api_key') as batch:
        batch.create_index(batch.f('ix_api_key_merchant_id'), ['merchant_id'])
    op.create_table(
        'idempotency_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=True),
        sa.Column('location', sa.String(length=500), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_idempotency_key_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
        sa.UniqueConstraint('merchant_id', 'key', name=op.f('uq_idempotency_key_merchant_id_key')),
    )
    with op.batch_alter_table('idempotency_key') as batch:
        batch.create_index(batch.f('ix_idempotency_key_created_at'), ['created_at'])


def downgrade():
    op.drop_table('idempotency_key')
    op.drop_table('api_key')
