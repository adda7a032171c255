"""login_failure: failed sign-ins under logins that name no customer (issue #19-9, C-8)

Unknown logins are counted and locked like customers' own failures, so the lockout answer
never reveals which accounts exist.

Revision ID: e2b7c4d91f06
Revises: d7e1f3a9c2b5
Create Date: 2026-11-29 17:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import UTCDateTime


revision = 'e2b7c4d91f06'
down_revision = 'd7e1f3a9c2b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('login_digest', sa.String(length=64), nullable=False),
        sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_login_failure_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
        sa.UniqueConstraint('merchant_id', 'login_digest',
                            name=op.f('uq_login_failure_merchant_id_login_digest')),
    )


def downgrade():
    op.drop_table('login_failure')
