"""payment.number: a receipt number a person can quote (#20, W-12)

Receipts and the receipt email showed the gateway's reference (`sbx_c:…`, `pi_…`). A succeeded
payment now takes a number from the merchant's "payment" counter (shown "PAY-00001"), in the
transaction that records its success, so receipts have no gaps. Payments that had already
succeeded are numbered here, per merchant in the order they were made, and the counter starts
after them. Nullable: a pending, failed, scheduled or cancelled payment has no receipt.

Revision ID: 6f2d9a4c1e83
Revises: 5e0a8c3b7d21
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '6f2d9a4c1e83'
down_revision = '5e0a8c3b7d21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, merchant_id FROM payment WHERE status = 'succeeded' "
        "ORDER BY merchant_id, id")).fetchall()
    last: dict[int, int] = {}
    for payment_id, merchant_id in rows:
        last[merchant_id] = last.get(merchant_id, 0) + 1
        bind.execute(sa.text("UPDATE payment SET number = :n WHERE id = :id"),
                     {"n": last[merchant_id], "id": payment_id})
    for merchant_id, count in last.items():
        bind.execute(sa.text("DELETE FROM counter WHERE merchant_id = :m AND name = 'payment'"),
                     {"m": merchant_id})
        bind.execute(sa.text("INSERT INTO counter (merchant_id, name, next_value) "
                             "VALUES (:m, 'payment', :v)"), {"m": merchant_id, "v": count + 1})
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_payment_number', ['merchant_id', 'number'])


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_payment_number', type_='unique')
        batch_op.drop_column('number')
    op.execute("DELETE FROM counter WHERE name = 'payment'")
