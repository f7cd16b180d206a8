"""class history indexed by (run_id, code) instead of run_id alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

Analysis compares an entity's classes in two runs: a join of class_history with itself on
(run_id, code). With only an index on run_id, each lookup in the other run read all of
that run's rows, quadratic in the population. The composite index serves every query the
run_id index served (its leading column), so that one goes.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("class_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_class_history_run_id_code"), ["run_id", "code"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_class_history_run_id"))


def downgrade() -> None:
    with op.batch_alter_table("class_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_class_history_run_id"), ["run_id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_class_history_run_id_code"))
