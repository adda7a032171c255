"""service issues, their messages and attachments (#23 item 2, W-9)

Revision ID: b23b6c1d2e3f
Revises: a23a5b0c1d2e
Create Date: 2026-11-29 20:00:00

"""
from alembic import op
import sqlalchemy as sa

import widget_server.core.database


# revision identifiers, used by Alembic.
revision = "b23b6c1d2e3f"
down_revision = "a23a5b0c1d2e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "service_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_admin_id", sa.Integer(), nullable=True),
        sa.Column("last_author", sa.String(length=16), nullable=False),
        sa.Column("created_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.Column("updated_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.Column("closed_at", widget_server.core.database.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status in ('open', 'closed')",
                           name=op.f("ck_service_issue_status_known")),
        sa.ForeignKeyConstraint(["assigned_admin_id"], ["admin_user.id"],
                                name=op.f("fk_service_issue_assigned_admin_id_admin_user"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_service_issue_customer_id_customer"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"],
                                name=op.f("fk_service_issue_merchant_id_merchant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_issue")),
        sa.UniqueConstraint("merchant_id", "number",
                            name=op.f("uq_service_issue_merchant_id_number")),
    )
    with op.batch_alter_table("service_issue", schema=None) as batch_op:
        batch_op.create_index("ix_service_issue_customer", ["merchant_id", "customer_id", "id"],
                              unique=False)
        batch_op.create_index("ix_service_issue_inbox", ["merchant_id", "status", "updated_at"],
                              unique=False)

    op.create_table(
        "service_issue_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("admin_user_id", sa.Integer(), nullable=True),
        sa.Column("admin_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.CheckConstraint("author in ('customer', 'admin')",
                           name=op.f("ck_service_issue_message_author_known")),
        sa.ForeignKeyConstraint(["admin_user_id"], ["admin_user.id"],
                                name=op.f("fk_service_issue_message_admin_user_id_admin_user"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["issue_id"], ["service_issue.id"],
                                name=op.f("fk_service_issue_message_issue_id_service_issue"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"],
                                name=op.f("fk_service_issue_message_merchant_id_merchant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_issue_message")),
    )
    with op.batch_alter_table("service_issue_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_issue_message_issue_id"), ["issue_id"],
                              unique=False)

    op.create_table(
        "service_issue_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", widget_server.core.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["service_issue_message.id"],
            name=op.f("fk_service_issue_attachment_message_id_service_issue_message"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"],
                                name=op.f("fk_service_issue_attachment_merchant_id_merchant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_issue_attachment")),
    )
    with op.batch_alter_table("service_issue_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_issue_attachment_message_id"),
                              ["message_id"], unique=False)


def downgrade():
    op.drop_table("service_issue_attachment")
    op.drop_table("service_issue_message")
    op.drop_table("service_issue")
