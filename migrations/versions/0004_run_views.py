"""run views: indexes for the workspace-wide runs list and for retention

Revision ID: 7c3e91a4d2b6
Revises: 4f59f8574ad6
Create Date: 2026-11-21 17:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7c3e91a4d2b6'
down_revision = '4f59f8574ad6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_workspace_created', ['workspace_id', 'created_at'], unique=False)
        batch_op.create_index('ix_runs_created', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_created')
        batch_op.drop_index('ix_runs_workspace_created')
