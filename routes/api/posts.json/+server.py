from lib.posts import newest_first

from ssg import json


def GET(event):
    return json([{"slug": p.slug, "title": p.title, "date": p.date, "tags": p.tags} for p in newest_first()])
