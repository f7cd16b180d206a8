"""entities marked for reclassification by the consumers, scored by the reclassifier

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 20:00:00

The consumers used to reclassify every touched entity inside their own batch: an entity
with an entity event and its records in flight was scored once per batch that touched
it, and the scoring held the consumers near 1,000 entity events/s. Now they mark the
entity here and the reclassifier scores the marked ones in large batches.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_reclassification",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("entity_changed", sa.Boolean(), nullable=False),
        sa.Column("touches", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pending_reclassification")),
    )
    op.create_index(
        op.f("ix_pending_reclassification_marked_at"),
        "pending_reclassification",
        ["marked_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_pending_reclassification_marked_at"), table_name="pending_reclassification"
    )
    op.drop_table("pending_reclassification")
