"""A request's loaders are made on first use: a request reads through a few of them, and
making all of them (with their SQL expressions) cost every GraphQL request ~0.34 ms."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from schema.core.loaders import Database, Loaders, SettledLoader, create_loaders


def made(loaders: Loaders) -> list[str]:
    return [
        name
        for name, value in vars(loaders).items()
        if isinstance(value, DataLoader | SettledLoader)
    ]


async def test_a_loader_is_made_on_first_use_then_kept(session: AsyncSession) -> None:
    # given a request's loaders
    loaders = create_loaders(Database(session, uuid.uuid4()))
    assert made(loaders) == []

    # when two of them are used, one twice
    person = loaders.person_by_id
    rollup = loaders.objective_rollup_by_id

    # then those two alone exist, each made once
    assert loaders.person_by_id is person and loaders.objective_rollup_by_id is rollup
    assert made(loaders) == ["person_by_id", "objective_rollup_by_id"]
