"""The public surface: what a +page.py author imports from ssg."""

import ssg


def test_all_is_sorted_and_complete():
    assert ssg.__all__ == sorted(ssg.__all__)
    for name in ssg.__all__:
        assert getattr(ssg, name) is not None
    assert {"Response", "error", "json", "redirect", "text"} <= set(ssg.__all__)
