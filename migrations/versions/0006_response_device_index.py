"""response device index: a phone's recent answers without reading its unit's whole day

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_response_device_time", "response", ["device_hash", "submitted_at"])


def downgrade():
    op.drop_index("ix_response_device_time", table_name="response")
