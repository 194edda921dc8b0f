"""The simulator's responses validate against BTCPay's own OpenAPI schemas.

The upstream spec fragments are OpenAPI 3.0; they are turned into JSON Schema
2020-12 here (``nullable``, and ``additionalProperties: false`` inside
``allOf``, which the spec uses in a way no object could satisfy), and unknown
top-level fields are refused with ``unevaluatedProperties``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from cftui.sim import default_config

# BTCPay's OpenAPI fragments, copied from upstream (tests/data/btcpay/SOURCE.txt names the commit and licence).
BTCPAY_SPEC = Path(__file__).resolve().parent / "data" / "btcpay"
NOW = 1_780_000_000
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _spec_files() -> list[Path]:
    files = sorted(BTCPAY_SPEC.glob("swagger.template*.json"))
    if not files:
        pytest.fail(
            f"BTCPay OpenAPI files not found in {BTCPAY_SPEC} (see SOURCE.txt there for where they come from)."
        )
    return files


def _openapi_to_jsonschema(node: object) -> object:
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null alternative;
    ``additionalProperties: false`` is dropped where ``allOf`` composes schemas."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if "allOf" in out:
        for member in out["allOf"]:
            if isinstance(member, dict) and member.get("additionalProperties") is False:
                del member["additionalProperties"]
    nullable = out.pop("nullable", False)
    if nullable:
        return {"anyOf": [{"type": "null"}, out]}
    return out


def _load_components() -> dict:
    schemas: dict = {}
    for path in _spec_files():
        schemas.update(json.loads(path.read_text()).get("components", {}).get("schemas", {}))
    # Schemas pulled into an allOf elsewhere lose additionalProperties: false (see the module doc).
    composed = set()
    for schema in schemas.values():
        for member in schema.get("allOf", []):
            ref = member.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                composed.add(ref.rsplit("/", 1)[1])
    for name in composed:
        schemas[name] = {k: v for k, v in schemas[name].items() if k != "additionalProperties"}
    # Spec error: CrowdfundAppData.perks is typed "object" but is an array of AppItem
    # (its own example is an array; contract §4).
    crowdfund = copy.deepcopy(schemas["CrowdfundAppData"])
    crowdfund["allOf"][1]["properties"]["perks"] = {"type": "array", "items": {"$ref": "#/components/schemas/AppItem"}}
    schemas["CrowdfundAppData"] = crowdfund
    return {name: _openapi_to_jsonschema(schema) for name, schema in schemas.items()}


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("decimal")
    def is_decimal(value: object) -> bool:
        return not isinstance(value, str) or bool(_DECIMAL.match(value))

    return checker


COMPONENTS = _load_components()
CHECKER = _format_checker()


def validator_for(schema: dict) -> Draft202012Validator:
    """Validate against ``schema`` (which may $ref the components), refusing unknown top-level fields."""
    if schema.get("type") == "array":
        target = {"type": "array", "items": {"allOf": [schema["items"]], "unevaluatedProperties": False}}
    else:
        target = {"allOf": [schema], "unevaluatedProperties": False}
    root = {"components": {"schemas": COMPONENTS}, **target}
    return Draft202012Validator(root, format_checker=CHECKER)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def assert_valid(schema: dict, data: object) -> None:
    errors = sorted(validator_for(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def sim(start_module_sim):
    config = default_config(invoices=600, now=NOW)
    thread = start_module_sim(config)
    key = config.api_keys[0].key
    client = httpx.Client(base_url=thread.base_url, headers={"Authorization": f"token {key}"})
    yield thread, config.stores[0].store_id, client
    client.close()


def test_schema_check_rejects_a_broken_record():
    """The validator itself is strict: a string amount that is not decimal, or an unknown field, fails."""
    schema = {"type": "array", "items": ref("InvoiceData")}
    assert list(validator_for(schema).iter_errors([{"id": "x", "amount": "abc"}]))
    assert list(validator_for(schema).iter_errors([{"id": "x", "cryptoPrice": "1"}]))
    assert not list(validator_for(schema).iter_errors([{"id": "x", "amount": "5.00"}]))


@pytest.mark.parametrize("with_methods", [False, True])
def test_invoice_list_matches_schema(sim, with_methods):
    _, store_id, client = sim
    params = {"includeArchived": "true", "includePaymentMethods": str(with_methods).lower()}
    invoices = client.get(f"/api/v1/stores/{store_id}/invoices", params=params).json()
    assert len(invoices) == 600
    assert_valid(COMPONENTS["InvoiceDataList"], invoices)
    assert all(("paymentMethods" in inv) == with_methods for inv in invoices)


def test_single_invoice_and_payment_methods_match_schema(sim):
    _, store_id, client = sim
    listed = client.get(f"/api/v1/stores/{store_id}/invoices", params={"take": 40}).json()
    pm_schema = {"type": "array", "items": ref("InvoicePaymentMethodDataModel")}
    for item in listed:
        invoice = client.get(f"/api/v1/stores/{store_id}/invoices/{item['id']}").json()
        assert_valid(ref("InvoiceData"), invoice)
        assert invoice == item
        for accounted in ("true", "false"):
            methods = client.get(
                f"/api/v1/stores/{store_id}/invoices/{item['id']}/payment-methods",
                params={"onlyAccountedPayments": accounted},
            ).json()
            assert_valid(pm_schema, methods)


def test_server_key_health_stores_apps_match_schema(sim):
    _, store_id, client = sim
    assert_valid(ref("ApplicationHealthData"), client.get("/api/v1/health").json())
    assert_valid(ref("ApplicationServerInfoData"), client.get("/api/v1/server/info").json())
    assert_valid(ref("ApiKeyData"), client.get("/api/v1/api-keys/current").json())
    assert_valid(ref("StoreDataList"), client.get("/api/v1/stores").json())
    assert_valid(ref("StoreData"), client.get(f"/api/v1/stores/{store_id}").json())
    apps = client.get(f"/api/v1/stores/{store_id}/apps").json()
    assert apps
    assert_valid({"type": "array", "items": ref("AppBaseData")}, apps)
    for app in apps:
        raw = client.get(f"/api/v1/apps/crowdfund/{app['id']}")
        crowdfund = raw.json()
        assert_valid(ref("CrowdfundAppData"), crowdfund)
        # targetAmount is a JSON number (contract §0), never a string.
        assert crowdfund["targetAmount"] is None or re.search(rb'"targetAmount":-?\d', raw.content)


def test_invoice_numbers_are_typed_as_the_contract_says(sim):
    """Times are ints; every money field is a decimal string (never a JSON number)."""
    _, store_id, client = sim
    invoices = client.get(
        f"/api/v1/stores/{store_id}/invoices", params={"includePaymentMethods": "true", "take": 200}
    ).json()
    for inv in invoices:
        for key in ("createdTime", "expirationTime", "monitoringExpiration"):
            assert type(inv[key]) is int
        assert isinstance(inv["amount"], str) and isinstance(inv["paidAmount"], str)
        for method in inv["paymentMethods"]:
            for key in ("rate", "paymentMethodPaid", "totalPaid", "due", "amount", "paymentMethodFee"):
                assert isinstance(method[key], str) and _DECIMAL.match(method[key]), (key, method[key])
            for payment in method["payments"]:
                assert type(payment["receivedDate"]) is int
                assert isinstance(payment["value"], str)
