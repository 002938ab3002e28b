"""Alignment paths from a commitment, key result, objective or metric up to the North Star."""

import uuid
from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.rollups import repository
from service.rollups.types import AlignmentPath, NodeKind, PathNode

MAX_PATHS = 100


class _Graph:
    def __init__(
        self,
        objective_parents: dict[uuid.UUID, list[uuid.UUID]],
        drives: dict[uuid.UUID, list[uuid.UUID]],
        metric_parents: dict[uuid.UUID, list[uuid.UUID]],
        north_star: uuid.UUID,
    ) -> None:
        self.objective_parents = objective_parents
        self.drives = drives
        self.metric_parents = metric_parents
        self.north_star = north_star
        self._metric_ok: dict[uuid.UUID, bool] = {}
        self._objective_ok: dict[uuid.UUID, bool] = {}

    def metric_reaches(self, metric_id: uuid.UUID) -> bool:
        """Whether some path leads from the metric to the North Star (memoised pruning)."""
        if metric_id not in self._metric_ok:
            self._metric_ok[metric_id] = metric_id == self.north_star or any(
                self.metric_reaches(p) for p in self.metric_parents.get(metric_id, ())
            )
        return self._metric_ok[metric_id]

    def objective_reaches(self, objective_id: uuid.UUID) -> bool:
        if objective_id not in self._objective_ok:
            self._objective_ok[objective_id] = any(
                self.metric_reaches(m) for m in self.drives.get(objective_id, ())
            ) or any(
                self.objective_reaches(p) for p in self.objective_parents.get(objective_id, ())
            )
        return self._objective_ok[objective_id]

    def from_metric(self, metric_id: uuid.UUID) -> Iterator[list[PathNode]]:
        node = PathNode(NodeKind.metric, metric_id)
        if metric_id == self.north_star:
            yield [node]
            return
        for parent in sorted(self.metric_parents.get(metric_id, ())):
            if not self.metric_reaches(parent):
                continue
            for rest in self.from_metric(parent):
                yield [node, *rest]

    def from_objective(self, objective_id: uuid.UUID) -> Iterator[list[PathNode]]:
        node = PathNode(NodeKind.objective, objective_id)
        for metric_id in sorted(self.drives.get(objective_id, ())):
            if not self.metric_reaches(metric_id):
                continue
            for rest in self.from_metric(metric_id):
                yield [node, *rest]
        for parent in sorted(self.objective_parents.get(objective_id, ())):
            if not self.objective_reaches(parent):
                continue
            for rest in self.from_objective(parent):
                yield [node, *rest]

    def from_key_result(
        self, key_result_id: uuid.UUID, objective_id: uuid.UUID, metric_id: uuid.UUID | None
    ) -> Iterator[list[PathNode]]:
        node = PathNode(NodeKind.key_result, key_result_id)
        if metric_id is not None:
            for rest in self.from_metric(metric_id):
                yield [node, *rest]
        for rest in self.from_objective(objective_id):
            yield [node, *rest]


async def alignment_paths(
    session: AsyncSession, org_id: uuid.UUID, node_id: uuid.UUID, *, limit: int = MAX_PATHS
) -> list[AlignmentPath]:
    """Every path (at most `limit`, in a stable order) from the node up to the North Star.

    commitment → key result → objective → parent objectives → a metric one of them drives
    (or the key result's metric) → parent metrics → North Star. Paths go through active key
    results, active or closed objectives and metrics that are not archived; the start node
    itself may be in any state. No North Star, no paths.
    """
    kinds = await repository.node_kind(session, org_id, node_id)
    start: list[tuple[NodeKind, uuid.UUID | None, uuid.UUID | None]] = []
    key_results: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None]] = []
    if kinds:
        kind, objective_id, metric_id = kinds[0]
        start = [(NodeKind(kind), objective_id, metric_id)]
        if kind == "key_result":
            assert objective_id is not None
            key_results = [(node_id, objective_id, metric_id)]
    else:
        exists, key_results = await repository.commitment_key_results(session, org_id, node_id)
        if not exists:
            raise NotFound("no commitment, key result, objective or metric has this id")
        start = [(NodeKind.commitment, None, None)]
    objectives = [o for _, o, _ in key_results]
    metrics = [m for _, _, m in key_results if m is not None]
    kind = start[0][0]
    if kind is NodeKind.objective:
        objectives = [node_id]
    elif kind is NodeKind.metric:
        metrics = [node_id]
    objective_parents: dict[uuid.UUID, list[uuid.UUID]] = {}
    drives: dict[uuid.UUID, list[uuid.UUID]] = {}
    if objectives:
        edges, driven = await repository.objective_ancestry(session, org_id, objectives)
        for child, parent in edges:
            objective_parents.setdefault(child, []).append(parent)
        for objective_id, metric_id in driven:
            drives.setdefault(objective_id, []).append(metric_id)
            metrics.append(metric_id)
    metric_edges, north_star = await repository.metric_ancestry(session, org_id, metrics)
    if north_star is None:
        return []
    metric_parents: dict[uuid.UUID, list[uuid.UUID]] = {}
    for child, parent in metric_edges:
        metric_parents.setdefault(child, []).append(parent)
    graph = _Graph(objective_parents, drives, metric_parents, north_star)

    def walk() -> Iterator[list[PathNode]]:
        if kind is NodeKind.metric:
            yield from graph.from_metric(node_id)
        elif kind is NodeKind.objective:
            yield from graph.from_objective(node_id)
        elif kind is NodeKind.key_result:
            kr_id, objective_id, metric_id = key_results[0]
            yield from graph.from_key_result(kr_id, objective_id, metric_id)
        else:
            head = PathNode(NodeKind.commitment, node_id)
            for kr_id, objective_id, metric_id in sorted(key_results, key=lambda k: k[0]):
                for rest in graph.from_key_result(kr_id, objective_id, metric_id):
                    yield [head, *rest]

    paths: list[AlignmentPath] = []
    for nodes in walk():
        paths.append(AlignmentPath(tuple(nodes)))
        if len(paths) >= limit:
            break
    return paths


async def aligned_to_north_star(
    session: AsyncSession, org_id: uuid.UUID, node_id: uuid.UUID
) -> bool:
    return bool(await alignment_paths(session, org_id, node_id, limit=1))
