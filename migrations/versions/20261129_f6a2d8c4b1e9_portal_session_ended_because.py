"""portal_session.ended_because: why a session ended, to tell the customer (issue #20-8)

A customer signed out because their password was changed elsewhere is told so on the sign-in
page instead of silently finding the sign-in form.

Revision ID: f6a2d8c4b1e9
Revises: 6f2d9a4c1e83
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f6a2d8c4b1e9'
down_revision = '6f2d9a4c1e83'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('portal_session') as batch:
        batch.add_column(sa.Column('ended_because', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('portal_session') as batch:
        batch.drop_column('ended_because')
