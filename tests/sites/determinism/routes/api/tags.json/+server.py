from lib.tags import TAGS

from ssg import json


def GET(event):
    return json({"tags": TAGS, "count": len(TAGS)})
