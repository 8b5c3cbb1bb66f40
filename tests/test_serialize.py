"""SPEC §2: what load data may hold, and errors that name the key path."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json

import pytest
from sitekit import open_site, render, write_site

from ssg.errors import SerializationError
from ssg.serialize import to_jsonable


@dataclasses.dataclass
class Author:
    name: str
    joined: datetime.date


class WithJson:
    def __json__(self):
        return {"custom": (1, 2)}


def test_extra_types():
    value = {
        "when": datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 1),
        "price": decimal.Decimal("10.50"),
        "tags": {"b", "a", "c"},
        "frozen": frozenset({3, 1}),
        "pair": (1, "x"),
        "author": Author("Ann", datetime.date(2020, 1, 2)),
        "custom": WithJson(),
        "nothing": None,
        "flag": True,
    }
    assert to_jsonable(value) == {
        "when": "2024-05-01T12:30:00+00:00",
        "day": "2024-05-01",
        "price": "10.50",
        "tags": ["a", "b", "c"],
        "frozen": [1, 3],
        "pair": [1, "x"],
        "author": {"name": "Ann", "joined": "2020-01-02"},
        "custom": {"custom": [1, 2]},
        "nothing": None,
        "flag": True,
    }


@pytest.mark.parametrize("value, path", [
    ({"post": {"author": {"created": object()}}}, "data.post.author.created"),
    ({"items": [1, {"x": lambda: 1}]}, "data.items[1].x"),
    ({"odd key": {1j}}, "data['odd key'][0]"),
    ({"n": float("nan")}, "data.n"),
    ({"a": Author("x", object())}, "data.a.joined"),
])
def test_unserializable_names_key_path(value, path):
    with pytest.raises(SerializationError) as info:
        to_jsonable(value)
    assert info.value.key_path == path
    assert str(info.value).startswith(f"{path} is a ")


def test_failure_in_a_page_names_route_params_and_key_path(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/u/[id]/+page.py": """
            def entries():
                return [{"id": "1"}]

            def load(event):
                return {"user": {"seen": object()}}
        """,
        "routes/u/[id]/+page.html": "x",
    }))
    r = render(site, "/u/1")
    assert r.status == 500
    assert r.failure.message.startswith("data.user.seen is a builtins.object")
    assert (r.route.id, r.params) == ("/u/[id]", {"id": "1"})


def test_set_order_is_stable_across_hash_seeds():
    import subprocess
    import sys

    code = "from ssg.serialize import dumps; print(dumps({'s': {'pear', 'apple', 'fig', 'kiwi', 'lime'}}))"
    outputs = {
        subprocess.run([sys.executable, "-c", code], env={"PYTHONHASHSEED": seed}, capture_output=True, text=True).stdout
        for seed in ("1", "2", "3")
    }
    assert outputs == {json.dumps({"s": ["apple", "fig", "kiwi", "lime", "pear"]}, separators=(",", ":")) + "\n"}


def test_encode_writes_what_the_stdlib_writes():
    from ssg.serialize import encode

    values = [
        {"html": "<p>Caf\u00e9 \u2014 \"quoted\" & 'single' \\ back</p>\n\t\u2028\u0000\u001f", "emoji": "\U0001f600"},
        [1, -2, 0, 2**63 - 1, -(2**63), True, False, None, 1.5, 0.1, -0.0, 123456.789],
        {"nested": {"a": [[], {}, [{"b": ""}]]}, "keys in order": {"z": 1, "a": 2}},
    ]
    for value in values:
        assert encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(encode([1e-7, 1e300, 2.5e-300])) == [1e-7, 1e300, 2.5e-300]
    # What orjson refuses goes to the stdlib encoder, which writes it as before.
    for value in ([2**70], ["lone \ud800 surrogate"]):
        assert encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_encode_bytes_writes_valid_utf8_even_for_a_lone_surrogate():
    from ssg.serialize import encode_bytes

    assert encode_bytes({"a": "Caf\u00e9", "n": 2**70}) == '{"a":"Café","n":1180591620717411303424}'.encode()
    data = encode_bytes(["lone \ud800 surrogate", "Caf\u00e9"])
    assert json.loads(data.decode("utf-8")) == ["lone \ud800 surrogate", "Caf\u00e9"]
