"""webhook_endpoint and webhook_delivery: signed webhooks (#25 slice c, A-2)

Revision ID: b25c7d8e9f0a
Revises: c25d8e9f0a1b
Create Date: 2026-11-29 21:00:00

"""
import sqlalchemy as sa
from alembic import op

from widget_server.core.database import JSONType, UTCDateTime

revision = 'b25c7d8e9f0a'
down_revision = 'c25d8e9f0a1b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('event_types', JSONType, nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=200), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('failing_since', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_webhook_endpoint_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    with op.batch_alter_table('webhook_endpoint') as batch:
        batch.create_index(batch.f('ix_webhook_endpoint_merchant_id'), ['merchant_id'])
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('event_type', sa.String(length=60), nullable=False),
        sa.Column('message_id', sa.String(length=60), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('latency_ms', sa.Integer(), nullable=True),
        sa.Column('response_excerpt', sa.Text(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_attempt_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'],
                                name=op.f('fk_webhook_delivery_endpoint_id_webhook_endpoint'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['domain_event.id'],
                                name=op.f('fk_webhook_delivery_event_id_domain_event'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_webhook_delivery_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    )
    with op.batch_alter_table('webhook_delivery') as batch:
        batch.create_index('ix_webhook_delivery_endpoint', ['endpoint_id', 'id'])
        batch.create_index(batch.f('ix_webhook_delivery_merchant_id'), ['merchant_id'])


def downgrade():
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_endpoint')
