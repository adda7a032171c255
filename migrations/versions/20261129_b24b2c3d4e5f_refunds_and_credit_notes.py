"""refunds, credit notes and offline payments (#24 item 3, T-7)

Revision ID: b24b2c3d4e5f
Revises: a24a1b2c3d4e
Create Date: 2026-11-29 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import widget_server.core.database


# revision identifiers, used by Alembic.
revision = "b24b2c3d4e5f"
down_revision = 'a24a1b2c3d4e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refunded_minor", sa.BigInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("received_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_payment_refunded_within_amount"),
            "refunded_minor >= 0 AND refunded_minor <= amount_minor")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credited_minor", sa.BigInteger(), server_default="0",
                                      nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_invoice_credited_within_total"),
            "credited_minor >= 0 AND credited_minor <= total_minor")

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=300), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("failure_message", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refund_amount_positive")),
        sa.CheckConstraint("status in ('pending', 'succeeded', 'failed')",
                           name=op.f("ck_refund_status_known")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_refund_customer_id_customer"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"],
                                name=op.f("fk_refund_merchant_id_merchant"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"],
                                name=op.f("fk_refund_payment_id_payment"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("merchant_id", "idempotency_key",
                            name=op.f("uq_refund_merchant_id_idempotency_key")),
        sa.UniqueConstraint("merchant_id", "number", name=op.f("uq_refund_merchant_id_number")),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index("ix_refund_customer", ["merchant_id", "customer_id", "id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_refund_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "credit_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("applied_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("created_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_credit_note_amount_positive")),
        sa.CheckConstraint("applied_minor >= 0 AND credit_minor >= 0 AND "
                           "applied_minor + credit_minor = amount_minor",
                           name=op.f("ck_credit_note_split_adds_up")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_credit_note_customer_id_customer"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"],
                                name=op.f("fk_credit_note_invoice_id_invoice"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"],
                                name=op.f("fk_credit_note_merchant_id_merchant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note")),
        sa.UniqueConstraint("merchant_id", "idempotency_key",
                            name=op.f("uq_credit_note_merchant_id_idempotency_key")),
        sa.UniqueConstraint("merchant_id", "number",
                            name=op.f("uq_credit_note_merchant_id_number")),
    )
    with op.batch_alter_table("credit_note", schema=None) as batch_op:
        batch_op.create_index("ix_credit_note_customer", ["merchant_id", "customer_id", "id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_credit_note_invoice_id"), ["invoice_id"],
                              unique=False)


def downgrade():
    op.drop_table("credit_note")
    op.drop_table("refund")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invoice_credited_within_total"), type_="check")
        batch_op.drop_column("credited_minor")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_refunded_within_amount"), type_="check")
        batch_op.drop_column("received_on")
        batch_op.drop_column("refunded_minor")
