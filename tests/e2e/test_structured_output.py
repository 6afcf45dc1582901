"""Structured output through the real server on the demo model, whose free text is never JSON:
200 random JSON schemas (nested objects, arrays, enums, bounded numbers, patterns, formats, anyOf)
whose every answer parses and validates with jsonschema; regex, choice and GBNF constraints checked
with Python's re; unsupported schema keywords as 400s naming them; and tool_choice "required" or a
named function on fixture models with each tool-call format's template, whole and streamed."""
import json
import os
import random
import re
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import openai
import pytest
import requests

from conftest import API_KEY, ROOT, server_fixture

TEMPLATES = os.path.join(ROOT, "Tests", "Fixtures", "templates")
MODELS = os.path.join(ROOT, "Tests", "Fixtures", "models")
QUESTION = [{"role": "user", "content": "Describe a city."}]

demo_server = server_fixture("--served-model-name", "tern-e2e", model=None)


def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY)


PATTERNS = ["^[A-Z]{2}-\\d{3}$", "^(red|green|blue)$", "^[a-f0-9]{4,6}$", "^\\+?[0-9]{3}( [0-9]{2}){0,2}$", "^[^\"\\\\]{1,5}$",
            "^\\w{1,4}@\\w{1,4}\\.(com|org)$", "^v[0-9]\\.[0-9]{1,2}$"]
FORMATS = ["date", "uuid", "ipv4", "date-time", "email"]


def random_schema(rng, depth=0):
    """A schema whose every instance is short: the demo model has a 512-token context."""
    kinds = ["string", "integer", "number", "boolean", "null", "enum", "pattern", "format"]
    if depth < 2:
        kinds += ["object", "object", "array", "anyOf"]
    kind = rng.choice(kinds)
    if kind == "string":
        low = rng.randint(0, 3)
        return {"type": "string", "minLength": low, "maxLength": low + rng.randint(0, 6)}
    if kind == "integer":
        schema = {"type": "integer"}
        low = rng.randint(-500, 500)
        if rng.random() < 0.7:
            schema["exclusiveMinimum" if rng.random() < 0.3 else "minimum"] = low
        if rng.random() < 0.7:
            schema["exclusiveMaximum" if rng.random() < 0.3 else "maximum"] = low + rng.randint(2, 3000)
        return schema
    if kind == "number":
        schema = {"type": "number"}
        low = round(rng.uniform(-100, 100), 2)
        if rng.random() < 0.6:
            schema["minimum"] = low
        if rng.random() < 0.6:
            schema["maximum"] = round(low + rng.uniform(1.5, 500), 2)
        return schema
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "null":
        return {"type": "null"}
    if kind == "enum":
        pool = ["alpha", "beta", "gamma", 1, 2.5, -7, True, False, None, "with \"quote\"", "é"]
        return {"enum": rng.sample(pool, rng.randint(1, 4))}
    if kind == "pattern":
        return {"type": "string", "pattern": rng.choice(PATTERNS)}
    if kind == "format":
        return {"type": "string", "format": rng.choice(FORMATS)}
    if kind == "array":
        low = rng.randint(0, 2)
        return {"type": "array", "items": random_schema(rng, depth + 1), "minItems": low, "maxItems": low + rng.randint(0, 2)}
    if kind == "anyOf":
        return {"anyOf": [random_schema(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    names = rng.sample(["id", "name", "city", "tags", "score", "ok", "note", "kind"], rng.randint(1, 3))
    schema = {"type": "object", "properties": {name: random_schema(rng, depth + 1) for name in names},
              "required": [name for name in names if rng.random() < 0.6]}
    if rng.random() < 0.5:
        schema["additionalProperties"] = False
    return schema


def ask_with_schema(server, schema):
    reply = client(server).chat.completions.create(
        model="tern-e2e", messages=QUESTION, max_tokens=400, temperature=1.0,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}})
    return reply.choices[0]


def test_two_hundred_random_schemas_always_validate(demo_server):
    rng = random.Random(20261130)
    schemas = [random_schema(rng) for _ in range(200)]
    with ThreadPoolExecutor(8) as pool:
        choices = list(pool.map(lambda s: ask_with_schema(demo_server, s), schemas))
    for schema, choice in zip(schemas, choices):
        assert choice.finish_reason == "stop", (schema, choice.message.content)
        value = json.loads(choice.message.content)
        jsonschema.validate(value, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_json_object_and_guided_json_give_json(demo_server):
    c = client(demo_server)
    free = c.chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=16, temperature=0)
    with pytest.raises(ValueError):
        json.loads(free.choices[0].message.content)
    # Left alone, the demo model rambles inside a key until max_tokens; a bias towards '"' and '}'
    # (the mask still decides what is allowed) closes strings and the object as soon as JSON lets it.
    ids = requests.post(demo_server.url + "/tokenize", json={"model": "tern-e2e", "prompt": '"}', "add_special_tokens": False},
                        headers=demo_server.headers()).json()["tokens"]
    assert len(ids) == 2
    reply = c.chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=300, response_format={"type": "json_object"},
                                      logit_bias={str(i): 30 for i in ids})
    assert reply.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(reply.choices[0].message.content), dict)
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["n"], "additionalProperties": False}
    for extra in ({"guided_json": schema}, {"guided_json": json.dumps(schema)}, {"structured_outputs": {"json": schema}}):
        text = c.completions.create(model="tern-e2e", prompt="Numbers:", max_tokens=20, extra_body=extra).choices[0].text
        jsonschema.validate(json.loads(text), schema)


@pytest.mark.parametrize("field,value,check", [
    ("guided_regex", "[0-9]{3}-[a-z]{2,4}( [A-Z])?", lambda text: re.fullmatch("[0-9]{3}-[a-z]{2,4}( [A-Z])?", text)),
    ("guided_choice", ["sunny", "rainy", "foggy day"], lambda text: text in ("sunny", "rainy", "foggy day")),
    ("guided_grammar", 'root ::= item ("," item){0,3}\nitem ::= "x" [0-9] | "(" [a-c]+ ")"\n',
     lambda text: re.fullmatch(r"(x[0-9]|\([a-c]+\))(,(x[0-9]|\([a-c]+\))){0,3}", text)),
])
def test_regex_choice_and_grammar_constraints(demo_server, field, value, check):
    c = client(demo_server)
    for seed in range(8):
        reply = c.chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=60, seed=seed, extra_body={field: value})
        assert reply.choices[0].finish_reason == "stop"
        assert check(reply.choices[0].message.content), reply.choices[0].message.content
    chunks = list(c.chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=60, seed=1, stream=True, extra_body={field: value}))
    assert check("".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices))


@pytest.mark.parametrize("extra,param", [
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "integer", "multipleOf": 3}}}},
     "response_format.multipleOf"),
    ({"guided_json": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}, "guided_json.uniqueItems"),
    ({"guided_regex": "(a)\\1"}, "guided_regex.pattern"),
    ({"guided_grammar": "root ::= other"}, "guided_grammar"),
    ({"guided_choice": []}, "guided_choice"),
    ({"response_format": {"type": "json_object"}, "guided_regex": "a"}, "guided_regex"),
    ({"response_format": {"type": "yaml"}}, "response_format.type"),
    ({"guided_decoding_backend": "xgrammar"}, "guided_decoding_backend"),
    ({"guided_whitespace_pattern": "[ ]*"}, "guided_whitespace_pattern"),
])
def test_constraints_that_cannot_be_honoured_are_400s(demo_server, extra, param):
    with pytest.raises(openai.BadRequestError) as error:
        client(demo_server).chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=8, extra_body=extra)
    assert error.value.body["param"] == param
    assert client(demo_server).chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=2).choices[0].message.role == "assistant"


WEATHER = {"type": "function", "function": {"name": "weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "maxLength": 12}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"]}}}
CLOCK = {"type": "function", "function": {"name": "clock", "parameters": {
    "type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"], "additionalProperties": False}}}
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in (WEATHER, CLOCK)}

# Tool listings make prompts longer than the fixtures' 512 positions; random weights run past them alike.
LONGER = ("--max-model-len", "1536")
hermes_server = server_fixture(*LONGER)  # the Qwen2 fixture with Qwen2.5's template
llama3_server = server_fixture(*LONGER, "--chat-template", os.path.join(TEMPLATES, "meta-llama-Llama-3.1-8B-Instruct.jinja"),
                               model=os.path.join(MODELS, "llama3-bpe"))
mistral_server = server_fixture(*LONGER, "--chat-template", os.path.join(TEMPLATES, "mistralai-Mistral-Nemo-Instruct-2407.jinja"),
                                model=os.path.join(MODELS, "mistral-window"))
chatglm3_server = server_fixture(*LONGER, model=os.path.join(ROOT, "Tests", "Fixtures", "families", "chatglm3-6b"))


def check_calls(calls, names):
    assert calls, "no tool call"
    for call in calls:
        assert call.type == "function" and call.id.startswith("call_") and call.function.name in names
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


@pytest.mark.parametrize("name", ["demo", "hermes", "llama3", "mistral", "chatglm3"])
def test_forced_tool_calls_validate_in_every_format(request, name):
    server = request.getfixturevalue("demo_server" if name == "demo" else f"{name}_server")
    c = client(server)
    for seed in range(3):
        reply = c.chat.completions.create(model="tern-e2e", messages=QUESTION, tools=[WEATHER, CLOCK], tool_choice="required",
                                          parallel_tool_calls=False, max_tokens=200, seed=seed)
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls", choice.message
        assert len(choice.message.tool_calls) == 1
        check_calls(choice.message.tool_calls, {"weather", "clock"})
        named = c.chat.completions.create(model="tern-e2e", messages=QUESTION, tools=[WEATHER, CLOCK], max_tokens=200, seed=seed,
                                          tool_choice={"type": "function", "function": {"name": "clock"}})
        check_calls(named.choices[0].message.tool_calls, {"clock"})
    stream = c.chat.completions.create(model="tern-e2e", messages=QUESTION, tools=[WEATHER], tool_choice="required", max_tokens=200,
                                       parallel_tool_calls=False, seed=5, stream=True)
    calls, pieces = {}, 0
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"name": "", "arguments": ""})
            entry["name"] += delta.function.name or ""
            entry["arguments"] += delta.function.arguments or ""
            pieces += 1 if delta.function.arguments else 0
    assert finish == "tool_calls" and calls
    # Constrained calls stream their arguments as they are written (ChatGLM3's Python call is read whole).
    assert pieces > 2 or name == "chatglm3"
    for entry in calls.values():
        assert entry["name"] == "weather"
        jsonschema.validate(json.loads(entry["arguments"]), SCHEMAS["weather"])


def test_tool_choice_errors_name_the_field(demo_server):
    c = client(demo_server)
    for extra, param in ((dict(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}}), "tool_choice"),
                         (dict(tool_choice="required"), "tool_choice"),
                         (dict(tools=[WEATHER], tool_choice="sometimes"), "tool_choice"),
                         (dict(tools=[WEATHER], tool_choice="required", response_format={"type": "json_object"}), "response_format")):
        with pytest.raises(openai.BadRequestError) as error:
            c.chat.completions.create(model="tern-e2e", messages=QUESTION, max_tokens=8, **extra)
        assert error.value.body["param"] == param, extra
