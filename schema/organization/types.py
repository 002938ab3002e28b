import strawberry

from schema.relay import Node
from service.models import Organization as OrganizationModel


@strawberry.type(description="The organization (tenant) the API key belongs to.")
class Organization(Node):
    name: str = strawberry.field(description="Display name of the organization.")
    on_track_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is on track."
    )
    at_risk_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is at risk (below: off track)."
    )

    @classmethod
    def from_model(cls, model: OrganizationModel) -> "Organization":
        settings = model.settings or {}
        return cls(
            uuid_=model.id,
            name=model.name,
            on_track_ratio=float(settings.get("on_track_ratio", 0.7)),
            at_risk_ratio=float(settings.get("at_risk_ratio", 0.4)),
        )
