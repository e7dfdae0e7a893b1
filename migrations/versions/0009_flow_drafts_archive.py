"""flows.archived_at and flows.test_inputs; flow_versions.draft: tested drafts and archived flows

A draft the editor tests is stored as a flow_versions row with draft = true and a negative
number (-1, -2, ...), so a worker runs it exactly like a published version while every list of
versions, the latest version and the version routes (which only accept positive numbers) skip it.

Revision ID: 4a1c9e7d2b53
Revises: 3e8b6f0c2a91
Create Date: 2026-11-30 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '4a1c9e7d2b53'
down_revision = '3e8b6f0c2a91'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column(
            'test_inputs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True))
    with op.batch_alter_table('flow_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('flow_versions', schema=None) as batch_op:
        batch_op.drop_column('draft')
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_column('test_inputs')
        batch_op.drop_column('archived_at')
