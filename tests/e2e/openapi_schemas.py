"""Validates response bodies against the official OpenAI schemas (Tests/Fixtures/openai/openapi.yaml)."""
import functools
import os

import jsonschema
import yaml

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "openai", "openapi.yaml")


def _with_nullable(node):
    """OpenAPI 3.0's `nullable: true` (still used in places) becomes JSON Schema's null type."""
    if isinstance(node, dict):
        node = {k: _with_nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            if "type" in node:
                kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
                node["type"] = kinds + ["null"]
            if "enum" in node:
                node["enum"] = list(node["enum"]) + [None]
            if "$ref" in node:
                node = {"anyOf": [{"$ref": node.pop("$ref")}, {"type": "null"}], **node}
        return node
    if isinstance(node, list):
        return [_with_nullable(v) for v in node]
    return node


@functools.lru_cache(maxsize=1)
def _document():
    with open(SPEC, encoding="utf-8") as f:
        return _with_nullable(yaml.safe_load(f))


def validate(body, schema_name):
    """Raises jsonschema.ValidationError when `body` does not match components/schemas/<schema_name>."""
    schema = {"components": _document()["components"], "$ref": f"#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(schema).validate(body)
