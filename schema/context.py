from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from service.auth.principal import Principal
from service.settings import Settings


@dataclass
class Context(BaseContext):
    """Per-request GraphQL context: one session (one transaction) and the caller."""

    session: AsyncSession
    principal: Principal
    settings: Settings

    def __post_init__(self) -> None:
        super().__init__()
