"""Open Badges identifiers: a random status-list index and subject id, salted hashed identifiers, the name choice

Certificates issued before keep their id as their place in the revocation list, so credentials already handed
out still check; each person who holds one gets a random subject id, and each certificate a salt and the hash of
the holder's e-mail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:30:39.513786

"""
import hashlib
import secrets
import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_subject', sa.String(length=45), nullable=True))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('identity_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_hash', sa.String(length=71), nullable=True))
        batch_op.add_column(sa.Column('show_name', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('modules', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('practice_by_activity', sa.JSON(), nullable=True))

    connection = op.get_bind()
    holders = connection.execute(sa.text(
        "SELECT DISTINCT users.id, users.email FROM users JOIN certificates ON certificates.trainee_id = users.id"
    )).all()
    subjects = {}
    for user_id, _email in holders:
        subjects[user_id] = f"urn:uuid:{uuid.uuid4()}"
        connection.execute(sa.text("UPDATE users SET credential_subject = :s WHERE id = :id"),
                           {"s": subjects[user_id], "id": user_id})
    emails = dict(holders)
    for certificate_id, trainee_id in connection.execute(sa.text("SELECT id, trainee_id FROM certificates")).all():
        salt = secrets.token_hex(16)
        connection.execute(sa.text(
            "UPDATE certificates SET status_index = id, subject_id = :s, identity_salt = :salt, email_hash = :h "
            "WHERE id = :id"), {"s": subjects[trainee_id], "salt": salt, "id": certificate_id,
                                "h": "sha256$" + hashlib.sha256(f"{emails[trainee_id]}{salt}".encode()).hexdigest()})

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('status_index', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('subject_id', existing_type=sa.String(length=45), nullable=False)
        batch_op.alter_column('identity_salt', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('email_hash', existing_type=sa.String(length=71), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_certificates_status_index'), ['status_index'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('credential_subject')

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_certificates_status_index'), type_='unique')
        batch_op.drop_column('practice_by_activity')
        batch_op.drop_column('modules')
        batch_op.drop_column('show_name')
        batch_op.drop_column('email_hash')
        batch_op.drop_column('identity_salt')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('status_index')
