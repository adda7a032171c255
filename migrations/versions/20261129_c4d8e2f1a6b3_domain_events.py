"""domain events

Domain events recorded in the transaction of the change (#18 slice b): the email subscribers
run on them, and webhooks (#25) will read them per merchant in id order, hence the index.

Revision ID: c4d8e2f1a6b3
Revises: a1c3e5f70b29
Create Date: 2026-11-29 16:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import widget_server.core.database


revision = 'c4d8e2f1a6b3'
down_revision = 'a1c3e5f70b29'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'domain_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()),
                                                    'postgresql'), nullable=False),
        sa.Column('created_at', widget_server.core.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_domain_event_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_event')),
    )
    with op.batch_alter_table('domain_event', schema=None) as batch_op:
        batch_op.create_index('ix_domain_event_merchant', ['merchant_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('domain_event', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_event_merchant')
    op.drop_table('domain_event')
