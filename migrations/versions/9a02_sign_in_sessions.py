"""server-side sessions, per-address sign-in failures, case-insensitive usernames, reset-link notices

Revision ID: 9a02_sign_in_sessions
Revises: 9a01_face_check_owner
Create Date: 2026-11-23 19:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a02_sign_in_sessions'
down_revision = '9a01_face_check_owner'
branch_labels = None
depends_on = None


def upgrade():
    # One row per sign-in: logging out, a password reset or "sign out on all devices" ends it server-side.
    op.create_table('user_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    # Failed sign-ins count per account and source address (they were per account on users).
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_failures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    sa.UniqueConstraint('user_id', 'ip', name=op.f('uq_login_failures_user_id'))
    )
    # Native ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): copying "users", which many tables
    # reference, would trip their foreign keys.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')
        batch_op.create_index('uq_users_username_lower', [sa.text('lower(username)')], unique=True)

    with op.batch_alter_table('one_time_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redeemed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('owner_notified_at', sa.DateTime(), nullable=True))
    # Links issued before this revision are not announced to their owners at the next sign-in.
    op.execute("UPDATE one_time_tokens SET owner_notified_at = created_at")


def downgrade():
    with op.batch_alter_table('one_time_tokens', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('owner_notified_at')
        batch_op.drop_column('redeemed_at')

    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('uq_users_username_lower')
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))

    op.drop_table('login_failures')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
