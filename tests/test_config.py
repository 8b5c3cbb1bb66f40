"""The site config: [tool.ssg] or ssg.toml, typed and validated all at once."""

from __future__ import annotations

import pytest
from conftest import run_ssg
from sitekit import write_site

from ssg import config
from ssg.errors import ConfigError


def test_pyproject_table_and_defaults(tmp_path):
    root = write_site(tmp_path / "s", {"pyproject.toml": '[tool.ssg]\norigin = "https://example.com"\n[tool.ssg.prerender]\non_missing_id = "warn"\n'})
    cfg = config.load(root)
    assert (cfg.origin, cfg.base_path, cfg.trailing_slash, cfg.out) == ("https://example.com", "", "always", "build")
    assert (cfg.prerender.on_missing_id, cfg.prerender.on_http_error, cfg.prerender.entries) == ("warn", "fail", ("*",))


def test_ssg_toml_wins_over_pyproject(tmp_path):
    root = write_site(tmp_path / "s", {"pyproject.toml": '[tool.ssg]\nbase_path = "/a"\n', "ssg.toml": 'base_path = "/b"\n'})
    assert config.load(root).base_path == "/b"


def test_every_problem_is_reported_at_once(tmp_path):
    root = write_site(tmp_path / "s", {"ssg.toml": (
        'orgin = "https://example.com"\nbase_path = "docs/"\ntrailing_slash = "sometimes"\n'
        '[prerender]\non_http_error = "explode"\nentries = "nope"\n[fetch]\ntimeout = "slow"\n'
    )})
    with pytest.raises(ConfigError) as info:
        config.load(root)
    problems = info.value.problems
    assert "unknown key orgin (did you mean origin?)" in problems
    assert "prerender.entries must be a list of strings, not 'nope'" in problems
    assert "fetch.timeout must be a number, not 'slow'" in problems
    assert "base_path must start with \"/\" and not end with one, e.g. \"/docs\", not 'docs/'" in problems
    assert len(problems) == 6  # types and values, all at once


def test_bad_values_are_reported_together(tmp_path):
    root = write_site(tmp_path / "s", {"ssg.toml": (
        'origin = "example.com/x"\nbase_path = "docs/"\ntrailing_slash = "sometimes"\n[prerender]\non_http_error = "explode"\n'
    )})
    with pytest.raises(ConfigError) as info:
        config.load(root)
    text = str(info.value)
    for expected in ("origin must look like", "base_path must start with", "trailing_slash must be one of", "prerender.on_http_error must be one of"):
        assert expected in text


def test_bad_config_exits_2_and_names_the_file(tmp_path):
    root = write_site(tmp_path / "s", {"ssg.toml": 'trailing_slash = 3\n', "routes/+page.html": "x"})
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 2
    assert f"{root}/ssg.toml: invalid ssg config" in result.stderr
    assert "trailing_slash must be a string, not 3" in result.stderr


def test_invalid_toml_is_a_config_error(tmp_path):
    root = write_site(tmp_path / "s", {"ssg.toml": 'origin = "unterminated\n'})
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(root)
