"""Reference answers for the constrained-decoding tests, from Python's `re` and `jsonschema`.

Regexes: each pattern with strings around its matches (hand-picked matches, then random edits of
them) and whether re.fullmatch accepts each; `exact` is false where Tern's ASCII-only \w \d \s
may refuse a non-ASCII string Python accepts. JSON schemas: each schema with candidate instances,
serialized as json.dumps writes them, and whether jsonschema (Draft 2020-12, format checks on)
finds them valid; `canonical` marks instances inside the subset Tern's grammar generates (declared
properties in order, no fractions for integers), which it must accept.

    python3 scripts/make_constraint_fixtures.py   # writes Tests/Fixtures/constraints/*.json
"""
import json
import os
import random
import re

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "constraints")

REGEXES = {
    r"[0-9]{3}-[0-9]{4}": ["555-1234", "000-0000"],
    r"^(red|green|blue)$": ["red", "green", "blue"],
    r"[a-f0-9]{4,6}": ["abcd", "0a1b2c", "ffff0"],
    r"\+?[0-9]{2,3}( [0-9]{3})*": ["+44 123 456", "12", "999"],
    r"[^a-z\"]{1,5}": ["ABC", "12!", "ÉÀ", "中文"],
    r"\d+\.\d{2}": ["3.14", "100.00"],
    r"(ab|a)*c": ["c", "abac", "aababc"],
    r"[A-Z][a-z]+ [A-Z]\.": ["John S.", "Ann B."],
    r".{2,3}x": ["abx", "ééx", "a\tx"],
    r"\w+@\w+\.(com|org)": ["me@example.com", "a_b@c.org"],
    r"(?:yes|no)(?P<n>!?)": ["yes", "no!"],
    r"x{2}y{,2}z{1,}": ["xxz", "xxyyzz", "xxyz"],
    r"[\d\s]+": ["1 2", " 9\t"],
    r"\x41\u00e9\\[\]\-]": ["Aé\\]", "Aé\\-"],
    r"a{3,}?b": ["aaab", "aaaaab"],
    r"[-a]b|[\W]": ["-b", "ab", "!", " "],
    r"\S\D": ["a!", "!x"],
}

ALPHABET = list("abcxyzABCZ0129 -+._!@\"\\\t\né中")


def edits(text, rng):
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        op = rng.choice("idr")
        pos = rng.randint(0, len(chars))
        if op == "i":
            chars.insert(pos, rng.choice(ALPHABET))
        elif chars and pos < len(chars):
            if op == "d":
                del chars[pos]
            else:
                chars[pos] = rng.choice(ALPHABET)
    return "".join(chars)


def regex_cases():
    rng = random.Random(17)
    cases = []
    for pattern, matches in REGEXES.items():
        compiled = re.compile(pattern)
        strings = list(matches)
        for _ in range(30):
            strings.append(edits(rng.choice(matches), rng))
        strings = list(dict.fromkeys(strings))
        # Tern's \w \d \s and their negations are ASCII-only (a subset of Python's Unicode classes).
        shorthand = re.search(r"\\[wWdDsS]", pattern) is not None
        cases.append({"pattern": pattern, "strings": [
            {"text": s, "matches": compiled.fullmatch(s) is not None, "exact": not (shorthand and not s.isascii())} for s in strings]})
    return cases


# (schema, canonical instances, other instances)
SCHEMAS = [
    ({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
      "required": ["name"], "additionalProperties": False},
     [{"name": "x"}, {"name": "Ann", "age": 30}, {"name": "", "age": 0}],
     [{"age": 3}, {"name": "x", "age": -1}, {"name": 3}, {"age": 1, "name": "x"}, {"name": "x", "extra": 1}, {"name": "x", "age": 1.5}]),
    ({"type": "integer", "minimum": -25, "maximum": 1300},
     [-25, -1, 0, 7, 99, 100, 1299, 1300], [-26, 1301, 5000, -100, 3.5, "3"]),
    ({"type": "integer", "exclusiveMinimum": 5, "exclusiveMaximum": 10}, [6, 9], [5, 10, 0, 11]),
    ({"type": "number", "minimum": -1.5, "maximum": 2.25},
     [-1, 0, 1, 2, 0.5, 1.999], [-0.5, -2, 3, 2.5, -1.75, 2.3]),
    ({"type": "number", "exclusiveMinimum": 0}, [1, 1.5, 12.25], [0.5, 0, -1, -0.5]),
    ({"type": "string", "minLength": 2, "maxLength": 4}, ["ab", "abcd", "a\"b", "中文"], ["a", "abcde", ""]),
    ({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}, ["AB-123"], ["ab-123", "AB-12", "AB-1234"]),
    ({"type": "string", "pattern": "^a\"b\\\\c$"}, ["a\"b\\c"], ["abc"]),
    ({"enum": ["red", 3, None, True, {"a": [1, 2]}]}, ["red", 3, None, True, {"a": [1, 2]}], ["blue", 4, False, {"a": [1]}]),
    ({"const": "fixed"}, ["fixed"], ["other"]),
    ({"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
     [[True], [False, True, False]], [[], [True, True, True, True], [1]]),
    ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
     [["a", 1]], [["a"], [1, "a"], ["a", 1, 2]]),
    ({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "maximum": 5}, {"type": "null"}]},
     ["abc", 5, -3, None], ["abcd", 6, True]),
    ({"type": ["string", "null"], "maxLength": 2}, ["ab", None], ["abc", 1]),
    ({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
                         "required": ["v"], "additionalProperties": False}},
      "$ref": "#/$defs/node"},
     [{"v": 1}, {"v": 1, "next": {"v": 2, "next": {"v": 3}}}], [{"next": {"v": 1}}, {"v": 1, "next": {}}]),
    ({"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 2},
     [{}, {"a": 1}, {"a": 1, "b": 2}], [{"a": "x"}, {"a": 1, "b": 2, "c": 3}]),
    ({"type": "string", "format": "date"}, ["2024-02-28", "1999-12-01"], ["2024-13-01", "2024-1-01", "x"]),
    ({"type": "string", "format": "uuid"}, ["12345678-9abc-def0-1234-56789abcdef0"], ["1234"]),
    ({"type": "string", "format": "ipv4"}, ["192.168.0.1", "0.0.0.0", "255.255.255.255"], ["256.1.1.1", "1.2.3"]),
    ({"type": "object", "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"type": "number"}}},
     [{}, {"a": True}, {"b": None}, {"a": False, "c": -1.5e3}, {"a": True, "b": None, "c": 0}], [{"a": 1}, {"c": "1"}]),
    (True, [1, "x", None, [1, {"a": False}], {"k": [True]}], []),
]


def schema_cases():
    cases = []
    for schema, canonical, others in SCHEMAS:
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        instances = []
        for value, is_canonical in [(v, True) for v in canonical] + [(v, False) for v in others]:
            valid = validator.is_valid(value)
            assert valid or not is_canonical, (schema, value)
            instances.append({"text": json.dumps(value, ensure_ascii=False), "valid": valid, "canonical": is_canonical})
        cases.append({"schema": schema, "instances": instances})
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "regex.json"), "w", encoding="utf-8") as f:
        json.dump(regex_cases(), f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "json_schema.json"), "w", encoding="utf-8") as f:
        json.dump(schema_cases(), f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
