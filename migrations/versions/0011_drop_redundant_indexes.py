"""drop three indexes that other indexes already cover: runs(status), runs(workspace_id), run_steps(run_id)

Each is the leading column of another index (runs(status, resume_at), runs(workspace_id, ...)
and the unique key run_steps(run_id, seq, attempt)), which serves the same lookups and the
foreign keys' cascades; keeping them cost one more index write per run, per status change
and per step, and their disk space.

Revision ID: 6c3e9a2d5f71
Revises: 5b2d8f1a7c64
Create Date: 2026-12-01 06:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6c3e9a2d5f71'
down_revision = '5b2d8f1a7c64'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_runs_status', table_name='runs')
    op.drop_index('ix_runs_workspace_id', table_name='runs')
    op.drop_index('ix_run_steps_run_id', table_name='run_steps')


def downgrade():
    op.create_index('ix_run_steps_run_id', 'run_steps', ['run_id'], unique=False)
    op.create_index('ix_runs_workspace_id', 'runs', ['workspace_id'], unique=False)
    op.create_index('ix_runs_status', 'runs', ['status'], unique=False)
