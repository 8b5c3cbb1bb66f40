"""SPEC §6 schemas: a collection's _collection.yaml declares field types, required fields and defaults."""

from __future__ import annotations

import datetime

import pytest

from ssg.content import ContentError
from ssg.content import frontmatter as fm
from ssg.content import schema

SCHEMA = """\
route: /blog/[slug]
unknown: error
fields:
  title: {type: str, required: true}
  date: {type: date, required: true}
  tags: {type: "list[str]", default: []}
  draft: {type: bool, default: false}
  rating: int
  level: {type: str, choices: [beginner, expert]}
  published: datetime
"""
FILE = "content/blog/post.md"


def checked(front_matter: str, schema_text: str = SCHEMA):
    s = schema.parse(schema_text, "content/blog/_collection.yaml")
    data, lines, _, _ = fm.parse(front_matter, FILE)
    return schema.check(s, data, lines, FILE)


def failure(front_matter: str, schema_text: str = SCHEMA) -> ContentError:
    with pytest.raises(ContentError) as info:
        checked(front_matter, schema_text)
    return info.value


def test_defaults_fill_in_and_iso_strings_become_dates():
    data = checked("---\ntitle: Hi\ndate: '2024-05-01'\npublished: 2024-05-01\n---\n")
    assert data == {
        "title": "Hi",
        "date": datetime.date(2024, 5, 1),
        "published": datetime.datetime(2024, 5, 1),
        "tags": [],
        "draft": False,
    }


def test_defaults_are_copied_per_entry():
    a = checked("---\ntitle: a\ndate: 2024-01-01\n---\n")
    b = checked("---\ntitle: b\ndate: 2024-01-01\n---\n")
    a["tags"].append("x")
    assert b["tags"] == []


def test_a_wrong_type_names_file_line_and_field():
    err = failure("---\ntitle: Hi\ndate: 2024-01-01\nrating: lots\n---\n")
    assert (err.file, err.line) == (FILE, 4)
    assert "field 'rating' must be a whole number, not the string 'lots'" in str(err)
    assert str(err).startswith("content/blog/post.md:4: ")


def test_a_number_where_a_string_belongs_says_to_quote_it():
    err = failure("---\ntitle: 2024\ndate: 2024-01-01\n---\n")
    assert err.line == 2 and "quote it" in str(err)


def test_a_missing_required_field_names_the_field_and_the_schema():
    err = failure("---\ntitle: Hi\n---\n")
    assert err.line == 1 and "missing required field 'date'" in str(err)
    assert "content/blog/_collection.yaml" in str(err)


def test_an_empty_required_field_is_missing_on_its_own_line():
    err = failure("---\ntitle:\ndate: 2024-01-01\n---\n")
    assert err.line == 2 and "missing required field 'title'" in str(err)


def test_a_bad_list_item_names_its_own_line():
    err = failure("---\ntitle: Hi\ndate: 2024-01-01\ntags:\n  - ok\n  - 42\n---\n")
    assert err.line == 6 and "field 'tags'[1] must be a string" in str(err)


def test_choices_are_enforced():
    err = failure("---\ntitle: Hi\ndate: 2024-01-01\nlevel: wizard\n---\n")
    assert err.line == 4 and "one of 'beginner', 'expert'" in str(err)


def test_unknown_fields_fail_when_the_schema_says_so_with_a_suggestion():
    err = failure("---\ntitle: Hi\ndate: 2024-01-01\ntagz: [a]\n---\n")
    assert err.line == 4 and "unknown field 'tagz' (did you mean 'tags'?)" in str(err)
    assert checked("---\ntitle: Hi\ndate: 2024-01-01\nextra: 1\n---\n", SCHEMA.replace("unknown: error", "unknown: allow"))["extra"] == 1


def test_a_bad_date_string_is_reported():
    err = failure("---\ntitle: Hi\ndate: May 1st\n---\n")
    assert err.line == 3 and "must be a date like 2024-05-01" in str(err)


@pytest.mark.parametrize("front_matter, line, message", [
    ("---\ndate: yesterday\n---\n", 2, "field 'date' must be a date"),
    ("---\ndraft: maybe\n---\n", 2, "field 'draft' must be true or false"),
    ("---\ntags: python\n---\n", 2, "field 'tags' must be a list of strings"),
    ("---\ntags: [a, [b]]\n---\n", 2, "field 'tags'[1] must be a string"),
], ids=["date", "draft", "tags", "tag-item"])
def test_date_draft_and_tags_are_checked_without_a_schema(front_matter, line, message):
    data, lines, _, _ = fm.parse(front_matter, FILE)
    with pytest.raises(ContentError) as info:
        schema.check(schema.NO_SCHEMA, data, lines, FILE)
    assert info.value.line == line and message in str(info.value)


@pytest.mark.parametrize("text, line, message", [
    ("route: blog\n", 1, "route must be a route id like /blog/[slug]"),
    ("fields:\n  title: string\n", 2, "unknown type 'string' (did you mean 'str'?)"),
    ("fields:\n  title: {type: str, requird: true}\n", 2, "unknown key 'requird' (did you mean 'required'?)"),
    ("fields:\n  n: {type: int, default: many}\n", 2, "the default does not fit"),
    ("unknown: forbid\n", 1, 'unknown must be "allow" or "error"'),
    ("feilds: {}\n", 1, "unknown key 'feilds' (did you mean 'fields'?)"),
    ("- a\n", 1, "must be a mapping"),
    ("fields: [title]\n", 1, "fields must be a mapping"),
    ("fields:\n  title: str\n  date: str\n", 3, "field 'date' has a fixed meaning in ssg"),
    ("fields:\n  tags: list\n", 2, "its type must be list[str]"),
], ids=["route", "type", "field-key", "default", "unknown", "top-key", "list", "fields-list", "date-type", "tags-type"])
def test_a_bad_schema_file_names_its_own_line(text, line, message):
    with pytest.raises(ContentError) as info:
        schema.parse(text, "content/blog/_collection.yaml")
    assert (info.value.file, info.value.line) == ("content/blog/_collection.yaml", line)
    assert message in str(info.value)
