from ssg import json
from ssg.content import collection


def GET(event):
    return json([{"slug": p.slug, "title": p.data["title"]} for p in collection("posts")])
