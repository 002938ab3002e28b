"""ORM models, one module per table. Importing this package registers every table."""

from service.models.alignment import Alignment
from service.models.api_key import ApiKey, Scope
from service.models.base import Base
from service.models.check_in import CheckIn, CheckInSource
from service.models.commitment import Commitment, CommitmentState
from service.models.commitment_key_result import CommitmentKeyResult
from service.models.cycle import Cycle
from service.models.delivery import Delivery, DeliveryStatus
from service.models.delivery_attempt import DeliveryAttempt
from service.models.event import Event
from service.models.idempotency_record import IdempotencyRecord, IdempotencyStatus
from service.models.key_result import KeyResult, KeyResultDirection, KeyResultState, Measure
from service.models.key_result_status import KeyResultStatus
from service.models.metric import Aggregation, Direction, Metric, MetricKind
from service.models.metric_edge import EdgeRelation, MetricEdge
from service.models.objective import Objective, ObjectiveState, RollupMode
from service.models.objective_metric import ObjectiveMetric
from service.models.organization import Organization
from service.models.person import Person, PersonKind
from service.models.point import Point
from service.models.status_recheck import StatusRecheck
from service.models.team import Team
from service.models.team_member import TeamMember
from service.models.webhook_endpoint import WebhookEndpoint
from service.models.window_aggregate import WindowAggregate

__all__ = [
    "Aggregation",
    "Alignment",
    "ApiKey",
    "Base",
    "CheckIn",
    "CheckInSource",
    "Commitment",
    "CommitmentKeyResult",
    "CommitmentState",
    "Cycle",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Direction",
    "EdgeRelation",
    "Event",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "KeyResult",
    "KeyResultDirection",
    "KeyResultState",
    "KeyResultStatus",
    "Measure",
    "Metric",
    "MetricEdge",
    "MetricKind",
    "Objective",
    "ObjectiveMetric",
    "ObjectiveState",
    "Organization",
    "Person",
    "PersonKind",
    "Point",
    "RollupMode",
    "Scope",
    "StatusRecheck",
    "Team",
    "TeamMember",
    "WebhookEndpoint",
    "WindowAggregate",
]
