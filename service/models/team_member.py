import uuid

from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, TenantMixin, org_id_index, tenant_fk


class TeamMember(TenantMixin, CreatedAtMixin, Base):
    """Membership of a person in a team."""

    __tablename__ = "team_members"
    __table_args__ = (
        org_id_index(),
        tenant_fk("team_id", "teams", ondelete="CASCADE"),
        tenant_fk("person_id", "people", ondelete="CASCADE"),
    )

    team_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
