"""idempotency keys for Run now by API: a key belongs to a trigger or, from the start node, to a flow

Run now from a flow's start node has no trigger to scope a key to, so `idempotency_keys` gets a
`flow_id` (unique with the key, like `trigger_id`), `trigger_id` may be empty, and a check keeps
exactly one of the two set.

Revision ID: 8d4f1b6e2a93
Revises: 6c3e9a2d5f71
Create Date: 2026-12-01 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d4f1b6e2a93'
down_revision = '6c3e9a2d5f71'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('trigger_id', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_idempotency_keys_flow_id_flows'), 'flows', ['flow_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_idempotency_flow_key', ['flow_id', 'key'])
        batch_op.create_check_constraint('one_scope', '(trigger_id IS NULL) <> (flow_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM idempotency_keys WHERE trigger_id IS NULL")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_idempotency_keys_one_scope'), type_='check')
        batch_op.drop_constraint('uq_idempotency_flow_key', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_idempotency_keys_flow_id_flows'), type_='foreignkey')
        batch_op.alter_column('trigger_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column('flow_id')
