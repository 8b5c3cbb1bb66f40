from lib.posts import POSTS

from ssg import error


def entries():
    return [{"slug": "hello"}, {"slug": "gone"}]


def load(event):
    if event.params["slug"] not in POSTS:
        error(404, "Post not found")
    return {"title": POSTS[event.params["slug"]]}
