"""docs/agent-api.openapi.yaml is valid OpenAPI 3.1 and agrees with the client and simulator."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from sage.agent.connection import SqliteConnector
from sage.agent.readers import READERS
from sage.agent.service import AgentService, CompanyReader
from sage.client import ERROR_CODES, RETRYABLE_STATUSES
from sage.resources import RESOURCES
from sage.simulator import SimulatorData
from tests.sage import sample_rows

SPEC_PATH = Path(__file__).parents[2] / "docs" / "agent-api.openapi.yaml"
SCHEMA_FOR_PATH = {
    "ap-invoices": "APInvoice",
    "purchase-orders": "PurchaseOrder",
    "gl-postings": "GLPosting",
    "gl-accounts": "GLAccount",
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def follow(spec: dict, node: dict) -> dict:
    """The node a local $ref points to (repeatedly), or the node itself."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schema_validator(spec: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({**spec, "$ref": f"#/components/schemas/{name}"})


def test_the_spec_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_the_clients_resources_are_the_specs(spec):
    assert spec["components"]["schemas"]["ResourceName"]["enum"] == [r.path for r in RESOURCES]
    assert set(SCHEMA_FOR_PATH) == {r.path for r in RESOURCES}


def test_the_clients_error_codes_and_statuses_are_the_specs(spec):
    pairs = set()
    retry_after = set()
    for item in spec["paths"].values():
        for status, response in item["get"]["responses"].items():
            if status == "200":
                continue
            response = follow(spec, response)
            error = follow(spec, response["content"]["application/json"]["schema"])
            codes = error["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
            pairs |= {(code, int(status)) for code in codes}
            if "Retry-After" in response.get("headers", {}):
                retry_after.add(int(status))
    assert pairs == {(code, status) for code, (status, _) in ERROR_CODES.items()}
    assert retry_after == RETRYABLE_STATUSES


@pytest.mark.parametrize("path", sorted(SCHEMA_FOR_PATH))
def test_sample_and_simulator_rows_match_the_record_schemas(spec, path):
    validator = schema_validator(spec, SCHEMA_FOR_PATH[path])
    data = SimulatorData.seeded(datetime(2026, 11, 26, 18, tzinfo=UTC), rng=random.Random(4))
    rows = data.rows("ABC", path)
    assert rows
    for row in [sample_rows.BY_PATH[path](), *rows]:
        errors = [error.message for error in validator.iter_errors(row)]
        assert not errors, (row["RecordKey"], errors)


def test_a_page_and_an_error_match_their_schemas(spec):
    page = {
        "company": "ABC",
        "resource": "gl-postings",
        "records": [sample_rows.gl_posting()],
        "next_page_token": None,
    }
    assert not list(schema_validator(spec, "Page").iter_errors(page))
    assert list(schema_validator(spec, "Page").iter_errors({**page, "next_page_token": ""}))
    locked = {"error": {"code": "record_locked", "message": "in use", "retryable": True}}
    assert not list(schema_validator(spec, "ErrorRecordLocked").iter_errors(locked))
    assert list(schema_validator(spec, "ErrorNotFound").iter_errors(locked))


def test_the_agents_answers_match_the_schemas(spec, company_files):
    company = CompanyReader("ABC", SqliteConnector(company_files["ABC"], label="companies.ABC"))
    service = AgentService({"ABC": company}, agent_version="test", sage_version="2024.1")
    assert not list(schema_validator(spec, "Health").iter_errors(service.health()))
    for path, name in SCHEMA_FOR_PATH.items():
        page = company.changes(READERS[path], None, None, 1000)
        body = {
            "company": "ABC",
            "resource": path,
            "records": page.records,
            "next_page_token": None,
        }
        assert not list(schema_validator(spec, "Page").iter_errors(body))
        for row in page.records:
            assert not list(schema_validator(spec, name).iter_errors(row)), row["RecordKey"]
        keys = company.keys(READERS[path], None, 1000)
        body = {"company": "ABC", "resource": path, "keys": keys.records, "next_page_token": None}
        assert not list(schema_validator(spec, "KeyPage").iter_errors(body))
