"""The committed contracts match the code; run `lodestar export-contracts` after API changes."""

from fastapi import FastAPI

from service.contracts import OPENAPI_PATH, SDL_PATH, graphql_sdl, openapi_json


def test_committed_graphql_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text() == graphql_sdl(), "run `lodestar export-contracts`"


def test_committed_openapi_matches_the_code(app: FastAPI) -> None:
    assert OPENAPI_PATH.read_text() == openapi_json(app), "run `lodestar export-contracts`"
