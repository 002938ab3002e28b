from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from schema.core.loaders import Database, Loaders, create_loaders
from service.auth.principal import Principal
from service.settings import Settings


@dataclass
class Context(BaseContext):
    """Per-request GraphQL context: one session (one transaction), the caller, the loaders."""

    session: AsyncSession
    principal: Principal
    settings: Settings
    transport: ClassVar[str] = "http"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    db: Database = field(init=False)
    _loaders: Loaders | None = field(default=None, init=False, repr=False)
    # Estimated objects of the operations of an HTTP batch admitted so far: the batch shares
    # the node budget of SPEC §7, which is per request. None outside batches (a WebSocket
    # context lives as long as its connection: its operations are budgeted one by one).
    node_budget_spent: int | None = field(default=None, init=False)
    # `rollup_fields`' memo of the instants a key-result list's selection asks for, by place
    # in an operation.
    requested_instants: dict[tuple[Any, ...], tuple[Any, Any, set[datetime]]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        super().__init__()
        self.db = Database(self.session, self.principal.org_id)

    @property
    def loaders(self) -> Loaders:
        """The request's loaders, made on first use (and again after `forget_loaded`)."""
        if self._loaders is None:
            self._loaders = create_loaders(self.db)
        return self._loaders

    def forget_loaded(self) -> None:
        """Drop every loader's cache: after a write, later fields must see it."""
        self._loaders = None

    def release(self) -> None:
        """Let go of what the request loaded, once its response is built (`/graphql` calls
        this). graphql-core's execution context holds this context and sits in a reference
        cycle (with its async helpers), so it is freed only by the cyclic collector: the
        loaders' rows, futures and roll-ups would wait for it too, and every few reads a
        collection would scan and free them. Dropped here, reference counting frees them
        (docs/decisions/0013-garbage-collector-settings.md)."""
        self._loaders = None
        self.requested_instants = {}
