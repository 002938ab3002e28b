"""The committed API contracts: `schema/schema.graphql` and `openapi/openapi.json`."""

import json
from pathlib import Path

from fastapi import FastAPI

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SDL_PATH = PROJECT_ROOT / "schema" / "schema.graphql"
OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"


def graphql_sdl() -> str:
    from schema.schema import schema

    return schema.as_str().rstrip() + "\n"


def openapi_json(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def write_contracts(app: FastAPI) -> list[Path]:
    SDL_PATH.write_text(graphql_sdl())
    OPENAPI_PATH.parent.mkdir(exist_ok=True)
    OPENAPI_PATH.write_text(openapi_json(app))
    return [SDL_PATH, OPENAPI_PATH]
