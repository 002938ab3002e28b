import strawberry

from schema.core.relay import Node
from service.models import Organization as OrganizationModel
from service.organizations.service import thresholds

USE_STATUS_THRESHOLDS = "Use `statusThresholds`."


@strawberry.type(
    description="Ratios of progress to expected progress (pace) that set an item's status:"
    " on track at or above `onTrackRatio`, at risk at or above `atRiskRatio`, else off track."
)
class StatusThresholds:
    on_track_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is on track (0 < ratio ≤ 1)."
    )
    at_risk_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is at risk, below which it is"
        " off track (0 ≤ ratio ≤ onTrackRatio)."
    )


@strawberry.type(description="The organization (tenant) the API key belongs to.")
class Organization(Node):
    name: str = strawberry.field(description="Display name of the organization.")
    status_thresholds: StatusThresholds = strawberry.field(
        description="The thresholds every key result and objective status is computed with."
    )
    on_track_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is on track.",
        deprecation_reason=USE_STATUS_THRESHOLDS,
    )
    at_risk_ratio: float = strawberry.field(
        description="Progress ÷ pace at or above which an item is at risk (below: off track).",
        deprecation_reason=USE_STATUS_THRESHOLDS,
    )

    @classmethod
    def from_model(cls, model: OrganizationModel) -> "Organization":
        current = thresholds(model)
        return cls(
            uuid_=model.id,
            name=model.name,
            status_thresholds=StatusThresholds(
                on_track_ratio=current.on_track_ratio, at_risk_ratio=current.at_risk_ratio
            ),
            on_track_ratio=current.on_track_ratio,
            at_risk_ratio=current.at_risk_ratio,
        )
