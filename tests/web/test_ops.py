"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb.record.models import DocumentDraft, Kind


def test_health_and_readiness_follow_the_index_lag(client: TestClient) -> None:
    assert client.get("/healthz", headers={"Authorization": ""}).json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    kb = client.app.state.kb  # type: ignore[attr-defined]
    kb.store.create(DocumentDraft(kind=Kind.faq, title="Written by another process?", body="Yes."))
    lagging = client.get("/readyz")  # the follower polls every 2 s: not applied yet
    assert lagging.status_code == 503 and lagging.json()["last_seq"] == lagging.json()["seq"] + 1
    kb.indexer.catch_up()
    assert client.get("/readyz").status_code == 200


def test_metrics_count_requests_search_legs_writes_and_lag(client: TestClient) -> None:
    client.get("/api/search", params={"q": "ベンダー選定"})
    client.post("/api/documents", json={"kind": "faq", "title": "Metrics?", "body": "Counted."})
    text = client.get("/metrics").text
    assert 'kb_http_request_seconds_count{method="GET",route="/api/search",status="200"} 1.0' in text
    assert (
        'kb_search_leg_seconds_count{leg="lexical"} 1.0' in text and 'kb_search_leg_seconds_count{leg="dense"}' in text
    )
    assert 'kb_documents_written_total{outcome="added"} 1.0' in text
    assert "kb_index_lag_changes 0.0" in text


def test_json_log_lines_carry_the_access_fields() -> None:
    import json
    import logging

    from web.logs import JsonFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5", "GET", "/api/me", "1.1", 200),
        None,
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["client"] == "10.0.0.1:5" and line["path"] == "/api/me" and line["status"] == 200
    assert line["level"] == "info" and line["message"].startswith("10.0.0.1:5")
