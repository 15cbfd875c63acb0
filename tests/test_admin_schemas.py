"""The admin API's typed bodies: documented in /openapi.json, answered as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from arena.admin import service
from arena.store.endpoint_models import EndpointCreate, EndpointPublic, EndpointUpdate
from arena.store.endpoints import EndpointIn, EndpointPatch
from arena.store.engine import make_engine
from arena.store.keys import KeyCipher
from arena.store.tables import Endpoint
from tests.admin_client import AUTH

# Exactly the keys `GET /api/admin/models/{name}` has always answered with, in order.
PUBLIC_KEYS = [
    "name",
    "base_url",
    "model",
    "api_key_env",
    "temperature",
    "top_p",
    "max_tokens",
    "system_prompt",
    "extra_body",
    "weight",
    "enabled",
    "organization",
    "license",
    "aliases",
    "input_price",
    "output_price",
    "daily_budget",
    "vision",
    "judge",  # added with the LLM judges (CONTRACT: second wave)
    "id",
    "state",
    "retired",
    "source",
    "api_key",
    "breaker",
    "budget",
    "created_at",
    "updated_at",
    "votes",
]


def test_the_old_names_are_the_new_models() -> None:
    assert EndpointIn is EndpointCreate and EndpointPatch is EndpointUpdate
    assert list(EndpointPublic.model_fields) == PUBLIC_KEYS


def test_openapi_documents_the_admin_model_schemas(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"EndpointPublic", "KeyStatus", "BreakerStatus", "VoteCounts", "Removal"} <= set(schemas)
    # No field that could carry a key: `api_key` is only where the key comes from, masked.
    assert schemas["EndpointPublic"]["properties"]["api_key"] == {
        "$ref": "#/components/schemas/KeyStatus"
    }
    public = {"$ref": "#/components/schemas/EndpointPublic"}
    models = spec["paths"]["/api/admin/models"]
    one = spec["paths"]["/api/admin/models/{name}"]

    def response(op: dict[str, Any], status: str) -> Any:
        return op["responses"][status]["content"]["application/json"]["schema"]

    def body(op: dict[str, Any]) -> Any:
        return op["requestBody"]["content"]["application/json"]["schema"]

    assert response(models["get"], "200")["items"] == public
    assert response(models["post"], "201") == public
    assert response(one["get"], "200") == public
    assert response(one["patch"], "200") == public

    create = body(models["post"])
    assert create["title"] == "EndpointCreateRequest"
    assert create["additionalProperties"] is False
    assert set(create["properties"]) == set(EndpointCreate.model_fields) | {
        "preset",
        "thinking",
        "api_key",
    }
    assert create["properties"]["weight"]["minimum"] == 0
    update = body(one["patch"])
    assert update["title"] == "EndpointUpdateRequest"
    assert set(update["properties"]) == set(EndpointUpdate.model_fields) | {"api_key"}
    assert "name" not in update["properties"] and "retired" in update["properties"]


def test_public_json_keeps_its_keys(client: httpx.Client) -> None:
    alpha = client.get("/api/admin/models/alpha", headers=AUTH).json()
    assert list(alpha) == PUBLIC_KEYS
    assert list(alpha["api_key"]) == ["env", "env_set", "stored", "in_use"]
    assert list(alpha["breaker"]) == [
        "consecutive_failures",
        "paused_until",
        "paused",
        "last_error",
    ]
    assert alpha["votes"] == {"votes": 0, "counted": 0, "excluded": 0}
    listed = client.get("/api/admin/models", headers=AUTH).json()
    assert [list(m) for m in listed] == [PUBLIC_KEYS, PUBLIC_KEYS]


@pytest.mark.parametrize(
    ("patch", "detail"),
    [
        ({"colour": "red"}, "colour: unknown field"),
        ({"weight": "lots"}, "weight: Input should be a valid number"),
        ({"enabled": "maybe"}, "enabled: Input should be a valid boolean"),
        ({"extra_body": [1]}, "extra_body: Input should be a valid dictionary"),
        ({"api_key": 5}, "api_key: must be a str"),
    ],
)
def test_a_bad_patch_still_answers_one_line_422(
    client: httpx.Client, database_url: str, patch: dict[str, Any], detail: str
) -> None:
    r = client.patch("/api/admin/models/alpha", headers=AUTH, json=patch)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], str)
    assert r.json()["detail"].startswith(detail)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            row = session.exec(select(Endpoint).where(Endpoint.name == "alpha")).one()
            assert (row.weight, row.enabled, row.extra_body) == (1.0, True, {})
    finally:
        engine.dispose()


def test_a_body_that_is_not_an_object_is_refused(client: httpx.Client) -> None:
    r = client.patch("/api/admin/models/alpha", headers=AUTH, json=[1, 2])
    assert r.status_code == 422
    r = client.post("/api/admin/models", headers=AUTH, json="alpha")
    assert r.status_code == 422


def test_the_service_answers_what_the_api_answers(client: httpx.Client, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        cipher = KeyCipher("x" * 32)
        shown = [m.model_dump(mode="json") for m in service.list_models(engine, cipher)]
        one = service.get_model(engine, cipher, "alpha").model_dump(mode="json")
    finally:
        engine.dispose()
    listed = client.get("/api/admin/models", headers=AUTH).json()
    assert [m["name"] for m in shown] == [m["name"] for m in listed] == ["alpha", "beta"]
    assert one == listed[0] == shown[0]
