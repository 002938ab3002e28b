from datetime import datetime

import strawberry
from strawberry.types import Info

from schema.core.context import Context
from schema.core.relay import decode_optional_id
from schema.node_lookup import parse_node_id
from schema.rollups import fields as rollup_fields
from schema.rollups.types import AlignmentPath, Interval, Rollup, RollupHistoryPoint


@strawberry.type
class RollupQueries:
    @strawberry.field(
        description=(
            "The roll-up of an objective, key result, team (with includeSubteams and a cycle)"
            " or cycle as of an instant; null when the ID is unknown."
        )
    )
    async def rollup(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: datetime | None = None,
        cycle: strawberry.ID | None = None,
        include_subteams: bool = False,
    ) -> Rollup | None:
        type_name, uuid_ = parse_node_id(id)
        cycle_id = decode_optional_id(cycle, "Cycle", field="cycle")
        return await rollup_fields.rollup_of(
            info, type_name, uuid_, as_of, cycle_id=cycle_id, include_subteams=include_subteams
        )

    @strawberry.field(
        description=(
            "The roll-up of an objective, key result, team (with a cycle) or cycle as of the"
            " end of each bucket of [start, end]; empty when the ID is unknown."
        )
    )
    async def rollup_history(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        start: datetime,
        end: datetime,
        interval: Interval = Interval.DAY,
        cycle: strawberry.ID | None = None,
        include_subteams: bool = False,
    ) -> list[RollupHistoryPoint]:
        type_name, uuid_ = parse_node_id(id)
        cycle_id = decode_optional_id(cycle, "Cycle", field="cycle")
        return await rollup_fields.rollup_history(
            info,
            type_name,
            uuid_,
            start,
            end,
            interval,
            cycle_id=cycle_id,
            include_subteams=include_subteams,
        )

    @strawberry.field(
        description=(
            "Paths from a commitment, key result, objective or metric up to the North Star."
        )
    )
    async def alignment_paths(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> list[AlignmentPath]:
        type_name, uuid_ = parse_node_id(id)
        return await rollup_fields.alignment_paths(info, type_name, uuid_)
