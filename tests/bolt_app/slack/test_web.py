"""/healthz and /metrics, and the Slack paths' absence when Socket Mode serves Slack."""

from __future__ import annotations

import httpx

from bolt_app.metrics import Metrics
from bolt_app.slack.web import build_web_app
from bolt_app.storage.engine import create_engine


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


async def test_healthz_is_ok_when_the_database_answers_and_no_scheduler_runs_here(engine):
    async with client_for(build_web_app(bolt=None, engine=engine, metrics=Metrics())) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": True}  # no scheduler here to report


async def test_healthz_fails_when_the_scheduler_stopped(engine):
    app = build_web_app(bolt=None, engine=engine, metrics=Metrics(), scheduler_alive=lambda: False)
    async with client_for(app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": True, "scheduler": False}


async def test_healthz_fails_when_the_database_is_unreachable(tmp_path):
    directory = tmp_path / "gone"
    directory.mkdir()
    engine = create_engine(f"sqlite:///{directory / 'x.db'}")
    directory.rmdir()  # the volume went away after start
    try:
        app = build_web_app(
            bolt=None, engine=engine, metrics=Metrics(), scheduler_alive=lambda: True
        )
        async with client_for(app) as client:
            response = await client.get("/healthz")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": False, "scheduler": True}


async def test_metrics_serves_the_registry_as_prometheus_text(engine):
    metrics = Metrics()
    for _ in range(3):
        metrics.record_delivery("sent")
    async with client_for(build_web_app(bolt=None, engine=engine, metrics=metrics)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'mlc_delivery_attempts_total{outcome="sent"} 3.0' in response.text


async def test_without_a_bolt_app_the_slack_paths_are_not_served(engine):
    async with client_for(build_web_app(bolt=None, engine=engine, metrics=Metrics())) as client:
        assert (await client.post("/slack/events", content=b"{}")).status_code == 404
        assert (await client.get("/slack/install")).status_code == 404
