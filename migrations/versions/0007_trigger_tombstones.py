"""triggers: deleted rows are never revived (partial unique node index); the node's name

Revision ID: 3d8f2b6c9e41
Revises: 7a5c3e9d1f20
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d8f2b6c9e41'
down_revision = '7a5c3e9d1f20'
branch_labels = None
depends_on = None

LIVE = sa.text("status != 'deleted'")


def upgrade():
    with op.batch_alter_table('triggers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
        batch_op.drop_constraint('uq_triggers_flow_node', type_='unique')
        batch_op.create_index('uq_triggers_flow_node_live', ['flow_id', 'node_id'], unique=True,
                              sqlite_where=LIVE, postgresql_where=LIVE)
    _backfill_names()


def _backfill_names():
    """Copy each live trigger's node name from its flow's latest version."""
    bind = op.get_bind()
    triggers = sa.table('triggers', sa.column('id', sa.String), sa.column('flow_id', sa.String),
                        sa.column('node_id', sa.String), sa.column('status', sa.String),
                        sa.column('name', sa.String))
    flows = sa.table('flows', sa.column('id', sa.String), sa.column('latest_version', sa.Integer))
    versions = sa.table('flow_versions', sa.column('flow_id', sa.String), sa.column('number', sa.Integer),
                        sa.column('document', sa.JSON))
    rows = bind.execute(
        sa.select(triggers.c.id, triggers.c.node_id, versions.c.document)
        .join(flows, flows.c.id == triggers.c.flow_id)
        .join(versions, sa.and_(versions.c.flow_id == flows.c.id, versions.c.number == flows.c.latest_version))
        .where(triggers.c.status != 'deleted')).all()
    for trigger_id, node_id, document in rows:
        node = next((n for n in (document or {}).get('nodes', []) if n.get('id') == node_id), None)
        if node and isinstance(node.get('name'), str) and node['name']:
            bind.execute(sa.update(triggers).where(triggers.c.id == trigger_id).values(name=node['name'][:200]))


def downgrade():
    # Tombstones would break the old (flow, node) unique constraint: keep at most one per node.
    op.execute("DELETE FROM triggers WHERE status = 'deleted' AND EXISTS (SELECT 1 FROM triggers AS live "
               "WHERE live.flow_id = triggers.flow_id AND live.node_id = triggers.node_id AND live.status != 'deleted')")
    op.execute("DELETE FROM triggers WHERE status = 'deleted' AND id NOT IN (SELECT MAX(id) FROM triggers "
               "WHERE status = 'deleted' GROUP BY flow_id, node_id)")
    with op.batch_alter_table('triggers', schema=None) as batch_op:
        batch_op.drop_index('uq_triggers_flow_node_live', sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_unique_constraint('uq_triggers_flow_node', ['flow_id', 'node_id'])
        batch_op.drop_column('name')
