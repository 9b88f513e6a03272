"""Developer environments and their onboarding leases

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('developer_environments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=36), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('github_url', sa.String(length=512), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('domain_id', sa.String(length=255), nullable=True),
    sa.Column('env_url', sa.String(length=512), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('submission_version', sa.Integer(), nullable=False),
    sa.Column('domain_history', sa.JSON(), nullable=False),
    sa.Column('resubmitted_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('job_owner', sa.String(length=64), nullable=True),
    sa.Column('job_expires_at', sa.DateTime(), nullable=True),
    sa.Column('job_attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('developer_environments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_developer_environments_owner_id'),
        ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_developer_environments_status'),
        ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_developer_environments_team_id'),
        ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_developer_environments_domain_id'),
        ['domain_id'], unique=False)


def downgrade() -> None:
    op.drop_table('developer_environments')
