"""placements: a trainee at a partner for a period with a site supervisor; partners' capacity; learning agreements

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_sites') as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
    op.create_table(
        'placements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trainee_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('planned_hours', sa.Integer(), nullable=False),
        sa.Column('supervisor_name', sa.String(length=200), nullable=False),
        sa.Column('supervisor_position', sa.String(length=200), nullable=False),
        sa.Column('supervisor_email', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_placements_cohort_id_cohorts')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_placements_created_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_placements_decided_by_id_users')),
        sa.ForeignKeyConstraint(['site_id'], ['practice_sites.id'], name=op.f('fk_placements_site_id_practice_sites')),
        sa.ForeignKeyConstraint(['trainee_id'], ['users.id'], name=op.f('fk_placements_trainee_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_placements')),
    )
    with op.batch_alter_table('placements') as batch_op:
        batch_op.create_index(batch_op.f('ix_placements_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placements_trainee_id'), ['trainee_id'], unique=False)
        batch_op.create_index('ix_placements_site_period', ['site_id', 'starts_on', 'ends_on'], unique=False)
    op.create_table(
        'learning_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', sa.DateTime(), nullable=True),
        sa.Column('nonce', sa.String(length=32), nullable=True),
        sa.Column('agreed_at', sa.DateTime(), nullable=True),
        sa.Column('agreed_by_name', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                                name=op.f('fk_learning_agreements_approved_by_id_users')),
        sa.ForeignKeyConstraint(['placement_id'], ['placements.id'],
                                name=op.f('fk_learning_agreements_placement_id_placements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_agreements')),
        sa.UniqueConstraint('nonce', name=op.f('uq_learning_agreements_nonce')),
        sa.UniqueConstraint('placement_id', 'version', name=op.f('uq_learning_agreements_placement_id')),
    )
    op.create_table(
        'learning_goals',
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('outcome', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['agreement_id'], ['learning_agreements.id'],
                                name=op.f('fk_learning_goals_agreement_id_learning_agreements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('agreement_id', 'position', name=op.f('pk_learning_goals')),
    )


def downgrade():
    op.drop_table('learning_goals')
    op.drop_table('learning_agreements')
    op.drop_table('placements')
    with op.batch_alter_table('practice_sites') as batch_op:
        batch_op.drop_column('capacity')
