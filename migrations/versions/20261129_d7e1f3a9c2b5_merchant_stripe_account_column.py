"""merchant.stripe_account_id: an indexed, unique column beside the Payments section

Webhooks look their merchant up by the connected account; a JSON path could not be indexed the
same way on SQLite and PostgreSQL, and uniqueness belongs in the database. Existing values are
copied from the configuration.

Revision ID: d7e1f3a9c2b5
Revises: c4d8e2f1a6b3
Create Date: 2026-11-29 15:10:00

"""
import json

from alembic import op
import sqlalchemy as sa

from widget_server.core.database import JSONType


revision = 'd7e1f3a9c2b5'
down_revision = 'c4d8e2f1a6b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_account_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_merchant_stripe_account_id'),
                                          ['stripe_account_id'])
    bind = op.get_bind()
    merchant = sa.table('merchant', sa.column('id', sa.Integer),
                        sa.column('config', JSONType), sa.column('stripe_account_id', sa.String))
    taken = set()
    for row in bind.execute(sa.select(merchant.c.id, merchant.c.config)).all():
        config = row.config if isinstance(row.config, dict) else json.loads(row.config or "{}")
        account = ((config or {}).get('payments') or {}).get('stripe_account_id') or None
        if not account:
            continue
        if account not in taken:  # the first merchant keeps a doubly used one...
            taken.add(account)
            bind.execute(merchant.update().where(merchant.c.id == row.id)
                         .values(stripe_account_id=account))
        else:  # ...the others lose it in both places (payments say "not set up" until fixed)
            config = {**config, 'payments': {**config['payments'], 'stripe_account_id': ''}}
            bind.execute(merchant.update().where(merchant.c.id == row.id)
                         .values(config=config))


def downgrade():
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_merchant_stripe_account_id'), type_='unique')
        batch_op.drop_column('stripe_account_id')
