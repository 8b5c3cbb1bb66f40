"""Shared site code lives in ordinary modules: the site root is on sys.path."""

NOTES = {
    "first": {"title": "First note", "body": "Routes are folders; [slug] folders take params from entries()."},
    "second": {"title": "Second note", "body": "Layouts wrap pages through {{ slot }}."},
}
