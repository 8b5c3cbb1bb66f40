"""SPEC §6 front matter: decoding, splitting, safe YAML, and errors on the file's own line."""

from __future__ import annotations

import datetime
import time

import pytest

from ssg.content import ContentError
from ssg.content import frontmatter as fm
from ssg.errors import SsgError


def parse(text: str, file: str = "content/blog/x.md"):
    return fm.parse(fm.decode(text.encode("utf-8"), file), file)


def error_of(text: str | bytes, file: str = "content/blog/x.md") -> ContentError:
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    with pytest.raises(ContentError) as info:
        fm.parse(fm.decode(raw, file), file)
    assert isinstance(info.value, SsgError)
    assert str(info.value).startswith(file), "every content error names the file first"
    return info.value


def test_front_matter_and_body_are_split_and_the_body_line_is_known():
    data, lines, body, body_line = parse("---\ntitle: Hi\ntags: [a, b]\n---\n# Body\n")
    assert data == {"title": "Hi", "tags": ["a", "b"]}
    assert body == "# Body\n"
    assert body_line == 5
    assert lines[("title",)] == 2 and lines[("tags",)] == 3


def test_a_file_without_front_matter_is_all_body():
    assert parse("# Just Markdown\n") == ({}, {}, "# Just Markdown\n", 1)
    # A thematic break or text after --- on the first line is not front matter.
    assert parse("----\ntext\n")[2] == "----\ntext\n"
    assert parse("--- not yaml\n")[0] == {}


def test_empty_front_matter_is_an_empty_mapping():
    assert parse("---\n---\nbody\n")[:3] == ({}, {}, "body\n")
    assert parse("---\n# only a comment\n---\nbody\n")[0] == {}
    assert parse("---\ntitle: x\n...\nbody\n")[0] == {"title": "x"}, "YAML's ... also ends the block"


def test_bom_and_crlf_are_handled_and_lines_still_count_from_the_file():
    raw = "\ufeff---\r\ntitle: Hi\r\ndate: 2024-01-02\r\n---\r\nBody\r\n".encode("utf-8")
    text = fm.decode(raw, "a.md")
    data, lines, body, body_line = fm.parse(text, "a.md")
    assert data == {"title": "Hi", "date": datetime.date(2024, 1, 2)}
    assert body == "Body\n" and body_line == 5
    assert lines[("date",)] == 3
    err = error_of(b"\xef\xbb\xbf---\r\ntitle: x\r\nbad: [unclosed\r\n---\r\n")
    assert err.line == 3


def test_invalid_yaml_names_the_line_in_the_md_file_not_in_the_yaml_block():
    err = error_of("---\ntitle: ok\ndate: 2024-01-01\nbroken: : :\n---\nbody\n")
    assert err.file == "content/blog/x.md" and err.line == 4
    assert "content/blog/x.md:4: invalid YAML in front matter" in str(err)


def test_bad_indentation_is_reported_on_its_line():
    err = error_of("---\ntitle: x\ntags:\n  - a\n - b\n---\n")
    assert err.line == 5


def test_python_tags_are_refused_with_the_line():
    for tag in ("!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!!python/object:collections.OrderedDict {}"):
        err = error_of(f"---\ntitle: x\nevil: {tag}\n---\n")
        assert err.line == 3, tag
        assert "not allowed" in str(err)


def test_unknown_local_tags_are_refused_too():
    err = error_of("---\ntitle: x\nthing: !custom 1\n---\n")
    assert err.line == 3 and "invalid YAML" in str(err)


def test_an_alias_bomb_fails_fast_naming_the_file():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    err = error_of("---\n" + "\n".join(lines) + "\n---\nbody\n")
    assert time.perf_counter() - started < 2
    assert "alias" in str(err) and err.file == "content/blog/x.md"
    assert 2 <= err.line <= 11


def test_small_aliases_are_fine():
    data = parse("---\nbase: &b {author: Ann}\npost: *b\n---\n")[0]
    assert data["post"] == {"author": "Ann"}


def test_a_recursive_alias_is_refused():
    err = error_of("---\nloop: &a [*a]\n---\n")
    assert err.line == 2 and "itself" in str(err)


@pytest.mark.parametrize("nested", [
    " " + "[" * 100_000 + "]" * 100_000,
    "\n" + "- " * 100_000 + "x",
    " " + "{a: " * 50_000 + "1" + "}" * 50_000,
], ids=["flow-lists", "block-lists", "flow-maps"])
def test_deep_nesting_fails_cleanly_instead_of_crashing(nested):
    # libyaml's composer recurses in C: 100,000 levels would crash the process, not raise.
    err = error_of(f"---\ntitle: x\ndeep:{nested}\n---\n")
    assert err.line == 3 + nested.startswith("\n") and "nested more than" in str(err)


def test_front_matter_that_is_a_list_is_refused():
    err = error_of("---\n- a\n- b\n---\nbody\n")
    assert err.line == 2 and "must be a mapping" in str(err) and "not a list" in str(err)


def test_front_matter_that_is_a_string_is_refused():
    err = error_of("---\njust a sentence\n---\n")
    assert "not a string" in str(err)


def test_a_missing_closing_line_is_reported_on_line_1():
    err = error_of("---\ntitle: x\n\n# Heading\n\nText.\n")
    assert err.line == 1 and "never closed" in str(err)
    assert error_of("---").line == 1


def test_a_dash_line_inside_a_code_block_of_the_body_is_body():
    text = "---\ntitle: x\n---\n```yaml\n---\nkey: value\n---\n```\n"
    data, _, body, body_line = parse(text)
    assert data == {"title": "x"}
    assert body == "```yaml\n---\nkey: value\n---\n```\n" and body_line == 4
    # With no front matter at all, a code block of YAML is not mistaken for it.
    assert parse("```yaml\n---\nkey: value\n---\n```\n")[0] == {}


def test_a_block_scalar_holding_dashes_stays_in_the_yaml():
    data = parse("---\nnote: |\n  ---\n  indented dashes\n---\nbody\n")[0]
    assert data == {"note": "---\nindented dashes\n"}


@pytest.mark.parametrize("raw", [
    "---\ntitle: x\n---\nhello\n".encode("utf-16"),
    "---\ntitle: x\n---\nhello\n".encode("utf-16-le"),
    "---\ntitle: x\n---\nhello\n".encode("utf-16-be"),
], ids=["utf16-bom", "utf16-le", "utf16-be"])
def test_utf16_files_are_refused_with_a_fix(raw):
    err = error_of(raw)
    assert "UTF-16" in str(err) and "UTF-8" in str(err)


def test_binary_files_are_refused_with_the_line():
    err = error_of(b"---\ntitle: x\n---\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in str(err) and err.line == 6


def test_invalid_utf8_names_the_line():
    err = error_of(b"---\ntitle: caf\xe9\n---\n")
    assert err.line == 2 and "UTF-8" in str(err)


def test_duplicate_keys_are_refused():
    err = error_of("---\ntitle: a\ndate: 2024-01-01\ntitle: b\n---\n")
    assert err.line == 4 and "duplicate key 'title'" in str(err)


def test_an_impossible_date_names_its_line():
    err = error_of("---\ntitle: x\ndate: 2024-13-45\n---\n")
    assert err.line == 3 and "2024-13-45" in str(err)


def test_top_level_keys_must_be_strings():
    err = error_of("---\ntitle: x\nyes: 1\n---\n")
    assert err.line == 3 and "quote the key" in str(err)


def test_c_loader_is_used_when_present():
    import yaml

    if getattr(yaml, "__with_libyaml__", False):
        assert fm.Loader is yaml.CSafeLoader
    else:
        assert fm.Loader is yaml.SafeLoader
