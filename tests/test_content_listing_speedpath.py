"""A listing read from the disk cache (front matter from files.json, kept there as JSON
strings; lines decoded only when a message needs one) is the listing a first parse makes:
the same entries, data, types and order, and the same errors on the same lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from sitekit import open_site, replace_records, saved_records, write_site

from ssg.content import ContentError, collection, diskcache, frontmatter, store

SCHEMA = """\
route: /notes/[...slug]
fields:
  title: {type: str, required: true}
  date: {type: date, required: true}
  when: datetime
  tags: {type: "list[str]", default: []}
  days: "list[date]"
  level: {type: str, choices: [beginner, expert], default: beginner}
  n: int
  x: float
  extra: any
  meta: dict
  links: list
  draft: {type: bool, default: false}
  series: {type: "list[str]", default: [intro]}
"""

NOTES = {
    "routes/notes/[...slug]/+page.html": "{{ data }}",
    "content/notes/_collection.yaml": SCHEMA,
    "content/notes/a.md": "---\ntitle: A\ndate: 2024-01-02\nwhen: 2024-01-02\ntags: [x, y]\n"
                          "days: [2024-01-01, '2024-01-03']\nlevel: expert\nn: 3\nx: 2\nextra: {k: [1, 2]}\n"
                          "meta: {a: 1}\nlinks: [1, two]\n---\nA.\n",
    "content/notes/b.md": "---\ntitle: B\ndate: '2024-02-03'\nwhen: 2024-02-03T10:00:00Z\nx: 1.5\n---\nB.\n",
    "content/notes/sub/c.md": "---\ntitle: C\ndate: 2024-02-03 10:00:00\ndraft: true\n---\nC.\n",
    "content/notes/sub/index.md": "---\ntitle: Sub\ndate: 2023-12-31\nextra: null\n---\nSub.\n",
    "content/notes/.hidden/d.md": "---\ntitle: D\n---\nhidden folder\n",
    "content/notes/.e.md": "---\ntitle: E\n---\nhidden file\n",
}


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.delenv("SSG_CONTENT_CACHE", raising=False)
    diskcache.configure()
    store.reset()
    yield
    diskcache.configure()
    store.reset()


def new_process(root: Path, **overrides):
    store.reset()
    return open_site(root, **overrides)


def snapshot() -> list[tuple]:
    files = store.current().files
    listing = store.current().listing("notes")
    return [(e.path, e.slug, e.url, e.draft, e.data, {k: type(v) for k, v in e.data.items()},
             files.get(e.path).lines, files.get(e.path).body_line) for e in listing.entries] + [listing.files]


def forbid_parsing(monkeypatch) -> None:
    monkeypatch.setattr(frontmatter, "parse", lambda *a: pytest.fail("front matter parsed instead of read from the cache"))


def test_a_cached_listing_is_the_parsed_one(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", NOTES)
    new_process(root, drafts=True)
    parsed = snapshot()
    assert [p[0] for p in parsed[:-1]] == ["content/notes/sub/c.md", "content/notes/b.md", "content/notes/a.md", "content/notes/sub/index.md"]
    assert parsed[-1] == ["content/notes/", "content/notes/_collection.yaml", "content/notes/a.md", "content/notes/b.md",
                          "content/notes/sub/c.md", "content/notes/sub/index.md"]
    new_process(root, drafts=True)
    forbid_parsing(monkeypatch)
    assert snapshot() == parsed


def test_cached_entries_share_no_lists(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", NOTES)
    new_process(root)
    list(collection("notes"))
    new_process(root, drafts=True)
    forbid_parsing(monkeypatch)
    entries = store.current().listing("notes").entries
    files = store.current().files
    series = [e.data["series"] for e in entries]
    assert all(s == ["intro"] for s in series) and len({id(s) for s in series}) == len(series), "a default is copied per entry"
    a = next(e for e in entries if e.slug == "a")
    assert a.data["tags"] == files.get(a.path).data["tags"] and a.data["tags"] is not files.get(a.path).data["tags"]


def failure() -> str:
    try:
        list(collection("notes"))
    except ContentError as exc:
        return str(exc)
    raise AssertionError("the listing did not fail")


def test_errors_from_cached_front_matter_name_the_line(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", NOTES)
    new_process(root)
    list(collection("notes"))
    # The files stay as they are (cached); the schema changes under them.
    strict = SCHEMA.replace("n: int", "n: str").replace("list[date]", "list[int]").replace("  when: datetime\n", "") + "unknown: error\n"
    (root / "content/notes/_collection.yaml").write_text(strict.replace("[beginner, expert]", "[beginner]"))
    new_process(root)
    forbid_parsing(monkeypatch)
    cached = failure()
    monkeypatch.undo()
    diskcache.configure(read=False, write=False)
    new_process(root)
    assert failure() == cached
    assert "content/notes/a.md:6: field 'days'[0] must be a whole number" in cached
    assert "content/notes/b.md:4: unknown field 'when'" in cached


@pytest.mark.parametrize("damage", ["[[1, 2, 3]]", "not json", '[[["title"], "two"]]'])
def test_damaged_lines_still_name_the_line(tmp_path, damage):
    root = write_site(tmp_path / "site", NOTES)
    new_process(root)
    list(collection("notes"))
    records = saved_records(root)
    records["content/notes/a.md"][6] = damage
    replace_records(root, records)
    (root / "content/notes/_collection.yaml").write_text(SCHEMA.replace("n: int", "n: str"))
    new_process(root)
    assert failure() == "content/notes/a.md:8: field 'n' must be a string, not the number 3; quote it"
