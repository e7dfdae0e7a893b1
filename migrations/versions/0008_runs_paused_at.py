"""runs.paused_at: when nobody started working on a run again (parked, or requeued after its worker died)

Revision ID: 3e8b6f0c2a91
Revises: 3d8f2b6c9e41
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e8b6f0c2a91'
down_revision = '3d8f2b6c9e41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('paused_at')
