"""What every scenario shares: the run context, result rows, HTTP and timing helpers."""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from generate import GeneratedOrg


class NotAvailable(Exception):
    """The feature a scenario measures is not in the running service (yet)."""


@dataclass
class Row:
    """One line of the table. `ratio` = lodestar ÷ floor; `target` bounds the ratio from
    below when `higher_is_better` (throughput), from above otherwise (latency)."""

    scenario: str
    measure: str
    unit: str
    lodestar: float | None
    floor: float | None = None
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""
    samples: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.lodestar is None or not self.floor:
            return None
        return self.lodestar / self.floor

    @property
    def passed(self) -> bool | None:
        ratio = self.ratio
        if self.target is None or ratio is None:
            return None
        return ratio >= self.target if self.higher_is_better else ratio <= self.target

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "measure": self.measure,
            "unit": self.unit,
            "lodestar": self.lodestar,
            "floor": self.floor,
            "ratio": self.ratio,
            "target": self.target,
            "target_kind": "ratio >=" if self.higher_is_better else "ratio <=",
            "passed": self.passed,
            "note": self.note,
            "samples": self.samples,
        }


@dataclass
class Context:
    base_url: str
    org: GeneratedOrg
    database_url: str  # plain postgresql:// URL of the benchmark database (for floors)
    quick: bool = False
    shared: dict[str, Any] = field(default_factory=dict)  # results scenarios pass on
    server_pid: int | None = None

    def service_cpu(self) -> float:
        """CPU seconds the service process has used so far (0 when unknown)."""
        if self.server_pid is None:
            return 0.0
        try:
            times = psutil.Process(self.server_pid).cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.org.api_key}"}

    def client(self) -> httpx.AsyncClient:
        """One keep-alive HTTP/1.1 connection per client, like a real integration."""
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.headers,
            timeout=120.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    async def connect(self, *, jit: bool = True) -> asyncpg.Connection:
        """A raw connection for a floor. Read floors run with `jit=off`: on these short
        statements PostgreSQL's JIT compilation costs more than it saves (seconds, when
        the planner's estimate crosses `jit_above_cost`)."""
        settings = {} if jit else {"jit": "off"}
        return await asyncpg.connect(self.database_url, server_settings=settings)

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def global_id(type_name: str, id: uuid.UUID) -> str:
    """The service's opaque ID (schema/relay.py): urlsafe base64 of `Type:uuid`."""
    return base64.urlsafe_b64encode(f"{type_name}:{id}".encode()).decode()


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL request; NotAvailable when the schema lacks a field, RuntimeError on
    any other error."""
    response = await client.post(
        "/graphql",
        content=orjson.dumps({"query": query, "variables": variables or {}}),
        headers={"content-type": "application/json"},
    )
    if response.status_code == 404:
        raise NotAvailable("/graphql is not served")
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise RuntimeError(
            f"GraphQL HTTP {response.status_code}, not JSON: {response.text[:200]!r}"
        ) from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        message = "; ".join(str(error.get("message")) for error in errors)
        if (
            "Cannot query field" in message
            or "Unknown argument" in message
            or "Unknown type" in message
        ):
            raise NotAvailable(message)
        raise RuntimeError(f"GraphQL error: {message}")
    if response.status_code != 200:
        raise RuntimeError(f"GraphQL HTTP {response.status_code}: {response.text[:300]}")
    data: dict[str, Any] = body["data"]
    return data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def latencies(
    call: Callable[[], Awaitable[object]],
    *,
    repeat: int,
    warmup: int,
    budget_seconds: float = 30.0,
    at_least: int = 5,
) -> list[float]:
    """Sequential calls; seconds per call after `warmup` unmeasured calls. Stops early once
    `budget_seconds` are spent and `at_least` calls are measured."""
    for _ in range(warmup):
        await call()
    measured: list[float] = []
    deadline = time.perf_counter() + budget_seconds
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        measured.append(time.perf_counter() - started)
        if len(measured) >= at_least and time.perf_counter() > deadline:
            break
    return measured


def differences(lodestar: Any, floor: Any, path: str = "", tolerance: float = 1e-9) -> list[str]:
    """Where two JSON answers differ (floats compared with a relative tolerance)."""
    if isinstance(lodestar, bool) or isinstance(floor, bool):
        return [] if lodestar == floor else [f"{path}: {lodestar!r} != {floor!r}"]
    if isinstance(lodestar, int | float) and isinstance(floor, int | float):
        if abs(lodestar - floor) <= tolerance * max(1.0, abs(lodestar), abs(floor)):
            return []
        return [f"{path}: {lodestar!r} != {floor!r}"]
    if isinstance(lodestar, dict) and isinstance(floor, dict):
        found = []
        for key in sorted(set(lodestar) | set(floor)):
            found += differences(lodestar.get(key), floor.get(key), f"{path}.{key}", tolerance)
        return found
    if isinstance(lodestar, list) and isinstance(floor, list):
        if len(lodestar) != len(floor):
            return [f"{path}: {len(lodestar)} items != {len(floor)} items"]
        found = []
        for i, (a, b) in enumerate(zip(lodestar, floor, strict=True)):
            found += differences(a, b, f"{path}[{i}]", tolerance)
        return found
    return [] if lodestar == floor else [f"{path}: {lodestar!r} != {floor!r}"]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def latency_samples(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": median_ms(values),
        "p90_ms": percentile(values, 0.90) * 1e3,
        "p99_ms": percentile(values, 0.99) * 1e3,
        "min_ms": min(values) * 1e3,
        "max_ms": max(values) * 1e3,
    }


async def run_concurrently(workers: int, work: Callable[[int], Awaitable[None]]) -> float:
    """Run `work(i)` for i in range(workers) together; wall seconds."""
    started = time.perf_counter()
    await asyncio.gather(*(work(i) for i in range(workers)))
    return time.perf_counter() - started
