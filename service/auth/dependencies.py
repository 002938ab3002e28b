"""FastAPI dependencies: the request's session and the authenticated principal."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import service
from service.auth.principal import Principal
from service.db import unit_of_work
from service.models import Scope
from service.ratelimit import enforce as enforce_rate_limit


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessions) as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client never
# sees success for a write that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="a valid API key is required (Authorization: Bearer lsk_...)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_optional_principal(request: Request, session: SessionDep) -> Principal | None:
    token = bearer_token(request)
    principal = await service.authenticate(session, token) if token else None
    if principal is not None:
        request.app.state.key_usage.touch(principal.org_id, principal.api_key_id)
        enforce_rate_limit(request, principal.api_key_id)  # 429 once the key's bucket is empty
    return principal


OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_principal(principal: OptionalPrincipalDep) -> Principal:
    if principal is None:
        raise unauthorized()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*scopes: Scope) -> object:
    """A dependency admitting a principal holding any of `scopes`; 403 otherwise."""
    names = " or ".join(repr(scope.value) for scope in scopes)
    noun = "scope" if len(scopes) == 1 else "scopes"

    async def check(principal: PrincipalDep) -> Principal:
        if not any(principal.has(scope) for scope in scopes):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"this API key needs the {names} {noun}"
            )
        return principal

    return Depends(check)
