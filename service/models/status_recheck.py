import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Boolean, DateTime, Identity, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedAtMixin, TenantMixin, org_id_index


class StatusRecheck(TenantMixin, CreatedAtMixin, Base):
    """A committed ingestion batch the worker has yet to announce: its
    `metric.points_ingested` event and the key-result status changes it caused.

    One row per batch that wrote points, in the batch's own statement: each metric written
    with the earliest and latest `ts` written and how many points it inserted and updated
    (`metric_ids[i]`, `first_ts[i]`, `last_ts[i]`, `inserted[i]`, `updated[i]`). The worker
    (`service.statuses.recheck`) claims rows with SKIP LOCKED and deletes them in the
    transaction that announces them, so a failed run leaves them queued. A run that announces
    batches without rechecking their statuses puts back one `announced` row per organization
    with their merged spans, updated counts and transactions (no inserted counts): only the
    recheck is left to do for it. `xids` lets the recheck tell the points a batch wrote from
    those it already read (`service.statuses.window_cache`).
    """

    __tablename__ = "status_rechecks"
    __table_args__ = (org_id_index(),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    metric_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    first_ts: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)))
    last_ts: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)))
    inserted: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    updated: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    # The transactions (`xid8`, as bigint) whose points the row queues: the batch's own, or
    # those of the batches a put-back row merges; null for rows from code before revision
    # 0011 (their metrics are then read whole, `service.statuses.window_cache`).
    xids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    # True unless the upsert says otherwise: a row from code before revision 0009 announced
    # itself (its batch wrote its own event).
    announced: Mapped[bool] = mapped_column(Boolean, server_default="true")
