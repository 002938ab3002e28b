"""Every REST route under /v1, tried with hostile input: an RFC 9457 problem, nothing written.

Routes are enumerated from the application, so a new route is swept without touching this
file; one that takes a body needs a plausible body in `BODIES` (the sweep fails until it has).
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.app import create_app
from service.models import Base, Organization
from service.settings import Settings
from tests import factories

METRIC_KEY = "hostile_metric"
TS = "2027-01-04T00:00:00Z"
POINT = {"metric": METRIC_KEY, "ts": TS, "value": 1, "dimensions": {"region": "eu"}}
# A plausible body for each route that takes one, by operation id (the sweep varies it).
BODIES: dict[str, dict[str, Any]] = {
    "metric_put": {"name": "Hostile metric", "unit": "teams", "observation_window_days": 7},
    "points_ingest": {"points": [POINT]},
    "metric_points_ingest": {"points": [POINT]},
    "check_in_create": {
        "value": 3,
        "confidence": 0.5,
        "note": "On plan.",
        "observed_at": "2027-01-04T00:00:00Z",
    },
}
CSV_BODIES = {
    "points_ingest": f"metric,ts,value,dim.region\n{METRIC_KEY},{TS},1,eu\n",
    "metric_points_ingest": f"ts,value,dim.region\n{TS},1,eu\n",
}
FIRST_NUMBER = re.compile(rb"(?<=: )-?[0-9][0-9.e+-]*")
KEY_RESULT_ID = "5b0c8a52-8f31-4a4e-9d53-3f3cf4d0a001"
PATH_VALUES = {"key": METRIC_KEY, "id": KEY_RESULT_ID}
# Just over the limit of fields that have one short enough to probe cheaply.
OVERLONG = {"metric": 64, "region": 5000, "name": 201, "unit": 51}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]


def v1_routes() -> list[Route]:
    """Every operation under /v1, read from the app's own OpenAPI document."""
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    found = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            found.append(
                Route(
                    method.upper(),
                    path,
                    operation["operationId"],
                    tuple(p["name"] for p in parameters if p["in"] == "path"),
                    tuple(p["name"] for p in parameters if p["in"] == "query"),
                )
            )
    return found


ROUTES = v1_routes()


def takes_body(method: str) -> bool:
    return method in ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    operation: str
    name: str
    path_values: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = "application/json"
    status: int | None = None  # when a specific status is expected
    code: str | None = None  # an `errors[].code` expected

    @property
    def id(self) -> str:
        return f"{self.method}-{self.operation}-{self.name}"


def _wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return "not a boolean"
    if isinstance(value, int | float):
        return "not a number"
    if isinstance(value, str):
        return {"not": "a string"}
    if isinstance(value, list):
        return "not a list"
    return ["not an object"]


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths of every scalar (and every dict key, as a path ending in the key) in `value`."""
    if isinstance(value, dict):
        found: list[tuple[str | int, ...]] = []
        for key, item in value.items():
            found += _leaves(item, (*path, key))
        return found
    if isinstance(value, list):
        return [leaf for n, item in enumerate(value) for leaf in _leaves(item, (*path, n))]
    return [path]


def _replace(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    copied = json.loads(json.dumps(document))
    target = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


def _case(
    base: dict[str, str],
    default_content: bytes | None,
    default_path_values: dict[str, str],
    name: str,
    **given: Any,
) -> Case:
    given.setdefault("content", default_content)
    given.setdefault("path_values", default_path_values)
    return Case(base["method"], base["path"], base["operation"], name, **given)


def cases() -> list[Case]:
    found: list[Case] = []
    for route in ROUTES:
        method, path, operation, params = (
            route.method,
            route.path,
            route.operation,
            route.path_params,
        )
        values = {name: PATH_VALUES.get(name, "x") for name in params}
        base = {"method": method, "path": path, "operation": operation}
        body = BODIES.get(operation) if takes_body(method) else None
        content = _json(body) if body is not None else None

        case = partial(_case, base, content, values)

        for name in params:
            found.append(
                case(f"nul-path-{name}", path_values={**values, name: "a\x00b"}, status=422)
            )
            found.append(case(f"overlong-path-{name}", path_values={**values, name: "k" * 5000}))
        found.append(case("nul-unknown-query", query={"x": "a\x00b"}, status=422))
        for query_name in route.query_params:
            found.append(case(f"nul-query-{query_name}", query={query_name: "a\x00b"}, status=422))
            found.append(case(f"wrong-query-{query_name}", query={query_name: "[]{}\x7f"}))
        if not takes_body(method):
            continue
        assert body is not None and content is not None, f"add a body for {operation} to BODIES"
        found += [
            case("wrong-content-type", content=b"hello", content_type="text/plain"),
            case("malformed-json", content=b'{"points": [', status=422),
            case("empty-body", content=b""),
            case("wrong-top-level-type", content=b"[1, 2]", status=422),
            case("missing-fields", content=b"{}", status=422),
            case("huge-body", content=b" " * (11 * 1024 * 1024), status=413),
            case("deeply-nested", content=b"[" * 100_000 + b"]" * 100_000),
            case("nan-token", content=FIRST_NUMBER.sub(b"NaN", content, count=1), status=422),
            case("non-utf8", content=b'{"name": "\xff\xfe"}'),
        ]
        for leaf in _leaves(body):
            dotted = _dotted(leaf)
            value: Any = body
            for part in leaf:
                value = value[part]
            found.append(
                case(f"wrong-type-{dotted}", content=_json(_replace(body, leaf, _wrong(value))))
            )
            if isinstance(value, str):
                found += [
                    case(
                        f"nul-{dotted}",
                        content=_json(_replace(body, leaf, "a\x00b")),
                        status=422,
                        code="INVALID_CHARACTER",
                    ),
                    case(
                        f"surrogate-{dotted}",
                        content=_json(_replace(body, leaf, "__S__")).replace(b"__S__", b"\\ud800"),
                        status=422,
                        code="INVALID_CHARACTER",
                    ),
                    case(f"huge-{dotted}", content=_json(_replace(body, leaf, "x" * 1_000_000))),
                ]
            if isinstance(value, str) and leaf[-1] in OVERLONG:
                overlong = _json(_replace(body, leaf, "k" * OVERLONG[str(leaf[-1])]))
                found.append(case(f"overlong-{dotted}", content=overlong, status=422))
            if isinstance(value, int | float) and not isinstance(value, bool):
                for name, number in (("max", 1e308), ("huge-int", 10**400), ("negative", -1e308)):
                    found.append(
                        case(f"{name}-{dotted}", content=_json(_replace(body, leaf, number)))
                    )
            if leaf[-2:-1] == ("dimensions",):
                bad_name = _replace(body, leaf[:-1], {"a\x00b": "eu"})
                found.append(
                    case(
                        f"nul-name-{dotted}",
                        content=_json(bad_name),
                        status=422,
                        code="INVALID_CHARACTER",
                    )
                )
        csv_body = CSV_BODIES.get(operation)
        if csv_body is not None:
            text = csv_body.encode()
            found += [
                case(
                    "csv-nul",
                    content=text.replace(b"eu", b"e\x00u"),
                    content_type="text/csv",
                    status=422,
                    code="INVALID_CHARACTER",
                ),
                case(
                    "csv-non-utf8",
                    content=text.replace(b"eu", b"\xff\xfe"),
                    content_type="text/csv",
                    status=422,
                ),
                case(
                    "csv-overlong-dimension",
                    content=text.replace(b"eu", b"e" * 5000),
                    content_type="text/csv",
                    status=422,
                ),
                case(
                    "csv-overlong-metric",
                    content=text.replace(METRIC_KEY.encode(), b"m" * 5000),
                    content_type="text/csv",
                    status=422,
                ),
                case(
                    "ndjson-nul",
                    content=_json(_replace(POINT, ("dimensions", "region"), "a\x00b")),
                    content_type="application/x-ndjson",
                    status=422,
                    code="INVALID_CHARACTER",
                ),
                case(
                    "ndjson-malformed",
                    content=b'{"metric": \n',
                    content_type="application/x-ndjson",
                    status=422,
                ),
            ]
    return found


CASES = cases()


@pytest.fixture
async def org(session: AsyncSession) -> Organization:
    org = await factories.create_org(session)
    await factories.create_metric(session, org, key=METRIC_KEY)
    cycle = await factories.create_cycle(session, org)
    objective = await factories.create_objective(session, org, cycle)
    await factories.create_key_result(session, objective, id=uuid.UUID(KEY_RESULT_ID))
    return org


@pytest.fixture
async def key(session: AsyncSession, org: Organization) -> str:
    return await factories.create_api_key(session, org, ("admin", "read", "write", "ingest"))


async def snapshot(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        result = await session.execute(select(func.count()).select_from(table))
        counts[table.name] = int(result.scalar_one())
    return counts


def url(case: Case) -> str:
    path = case.path
    for name, value in case.path_values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path + (f"?{urlencode(case.query)}" if case.query else "")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_hostile_input_gets_a_problem_and_writes_nothing(
    case: Case, client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    # given
    before = await snapshot(session)

    # when
    response = await client.request(
        case.method,
        url(case),
        content=case.content,
        headers={"Authorization": f"Bearer {key}", "Content-Type": case.content_type},
    )

    # then an RFC 9457 problem with a 4xx status
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:2000])
    assert response.headers["content-type"] == "application/problem+json", response.text[:500]
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"].startswith("urn:lodestar:problem:")
    assert problem["detail"]
    if case.status is not None:
        assert response.status_code == case.status, problem
    if case.code is not None:
        assert case.code in {error["code"] for error in problem["errors"]}, problem
    # and nothing was written
    assert await snapshot(session) == before


async def test_every_v1_route_is_swept() -> None:
    # then each route has cases, and each body-taking one has NUL cases
    swept = {(case.method, case.path) for case in CASES}
    with_nul = {(c.method, c.path) for c in CASES if c.name.startswith("nul-") and c.code}
    assert len(ROUTES) >= 6
    assert swept == {(route.method, route.path) for route in ROUTES}
    assert with_nul == {(route.method, route.path) for route in ROUTES if takes_body(route.method)}


async def test_a_nul_in_a_point_names_the_point_and_its_field(
    client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    # given a batch whose second point has a NUL in a dimension value (PostgreSQL refused it
    # mid-transaction: a 500)
    bad = {**POINT, "dimensions": {"region": "e\x00u"}}

    # when
    response = await client.post(
        "/v1/points", json={"points": [POINT, bad]}, headers={"Authorization": f"Bearer {key}"}
    )

    # then
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "index": 1,
            "field": "dimensions.region",
            "code": "INVALID_CHARACTER",
            "message": "`dimensions.region` contains a NUL character (U+0000) at position 1",
        }
    ]


async def test_a_nul_in_a_csv_cell_names_the_row_and_column(
    client: httpx.AsyncClient, key: str
) -> None:
    # when
    response = await client.post(
        "/v1/points",
        content=f"metric,ts,value,dim.region\n{METRIC_KEY},{TS},1,eu\n{METRIC_KEY},{TS},2,e\x00u\n",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
    )

    # then
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["index"], error["field"], error["code"]) == (1, "dim.region", "INVALID_CHARACTER")


async def test_a_points_body_nested_past_the_recursion_limit_is_a_422_not_a_crash(
    client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    # given JSON deeper than orjson's limit, which fell back to Python's decoder and its
    # RecursionError (a 500)
    before = await snapshot(session)

    # when
    response = await client.post(
        "/v1/points",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    # then
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body"
    assert await snapshot(session) == before


async def test_a_nul_in_the_path_is_a_422_naming_the_path(
    client: httpx.AsyncClient, key: str
) -> None:
    # when a metric key in the path carries a NUL (%00)
    response = await client.get("/v1/metrics/a%00b", headers={"Authorization": f"Bearer {key}"})

    # then
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0] == {
        "field": "path",
        "code": "INVALID_CHARACTER",
        "message": "`path` contains a NUL character (U+0000) at position 13",
    }
