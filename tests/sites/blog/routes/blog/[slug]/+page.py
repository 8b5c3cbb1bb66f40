from lib.posts import POSTS

from ssg import error


def load(event):
    title = POSTS.get(event.params["slug"])
    if title is None:
        error(404, "Post not found")
    return {"title": title}
