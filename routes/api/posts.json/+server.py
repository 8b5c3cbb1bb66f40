from lib.posts import posts

from ssg import json


def GET(event):
    return json([{"slug": p.slug, "title": p.title, "date": p.date, "tags": p.tags, "url": p.url} for p in posts()])
