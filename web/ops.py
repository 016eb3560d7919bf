"""Operations endpoints: liveness, readiness and Prometheus metrics.

- ``/healthz``: the process answers (a load balancer's liveness probe).
- ``/readyz``: the database answers and this replica's indexes have applied
  every change in the log (503 with the lag otherwise), so a proxy sends
  searches only to replicas that would find what was just written.
- ``/metrics``: Prometheus text format, from one ``CollectorRegistry`` per app
  (no process-global state, so test apps do not share counters): request
  latency by route, search latency per leg, the index lag in change-log
  numbers, documents written through the app and documents re-indexed, and
  the thread count of every BLAS/OpenMP pool loaded, as a worker thread sees it
  (``kb_native_threads``: 1 unless KB_NATIVE_THREADS says otherwise; see kb/threads.py).

All three are public, like the login page: they reveal no content. Restrict
``/metrics`` at the proxy if its counts are sensitive for you.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from app import maintenance
from kb.search.searcher import SearchResult

router = APIRouter(include_in_schema=False)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The app's metrics, registered on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "kb_http_request_seconds",
            "HTTP request latency by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.search_leg = Histogram(
            "kb_search_leg_seconds",
            "Search latency per leg (lexical, dense, total).",
            ["leg"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.written = Counter(
            "kb_documents_written_total",
            "Documents written through this app, by outcome (added, updated, unchanged, removed, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "kb_index_lag_changes",
            "Change-log entries written but not yet applied to this replica's indexes.",
            registry=self.registry,
        )
        self.indexed_seq = Gauge(
            "kb_index_seq", "Change-log number this replica's indexes reflect.", registry=self.registry
        )
        self.documents = Gauge("kb_index_documents", "Documents in this replica's indexes.", registry=self.registry)
        self.native_threads = Gauge(
            "kb_native_threads",
            "Threads of each BLAS/OpenMP pool loaded, as seen from a request's worker thread (threadpoolctl).",
            ["api", "library"],
            registry=self.registry,
        )

    def observe_search(self, result: SearchResult) -> None:
        for leg, seconds in result.timings.items():
            self.search_leg.labels(leg).observe(seconds)


def install(app: FastAPI) -> Metrics:
    metrics = Metrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", None) or ("/static" if request.url.path.startswith("/static") else "other")
        metrics.requests.labels(template, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    return metrics


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    state = maintenance.readiness(request.app.state.kb)
    body = {"status": "ready" if state.ready else "catching up", "seq": state.applied, "last_seq": state.last}
    return JSONResponse(body, status_code=200 if state.ready else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    m: Metrics = request.app.state.metrics
    state = maintenance.readiness(request.app.state.kb)
    m.indexed_seq.set(state.applied)
    m.documents.set(state.documents)
    m.lag.set(state.lag)
    # sync route: this runs on a worker thread, where an OpenMP limit set only on the main thread would not show
    for pool in importlib.import_module("threadpoolctl").threadpool_info():  # untyped module
        m.native_threads.labels(pool["user_api"], Path(pool["filepath"]).name).set(pool["num_threads"])
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
