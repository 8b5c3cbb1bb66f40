from ssg import error
from ssg.content import collection


def entries():
    return [{"slug": p.slug} for p in collection("posts")]


def load(event):
    post = collection("posts").get(event.params["slug"])
    if post is None:
        error(404, "no such post")
    return {"post": post}
