"""The `lodestar_events` notification channel: what a committed event announces, and how."""

import uuid

CHANNEL = "lodestar_events"


def notification(org_id: uuid.UUID, seq: int, deliveries: int) -> str:
    return f"{org_id}:{seq}:{deliveries}"


def parse_notification(payload: str) -> tuple[uuid.UUID, int, int] | None:
    """The (org_id, seq, deliveries) of a `lodestar_events` notification, None if it is not
    one of ours."""
    org, _, rest = payload.partition(":")
    seq, _, deliveries = rest.partition(":")
    try:
        return uuid.UUID(org), int(seq), int(deliveries)
    except ValueError:
        return None
