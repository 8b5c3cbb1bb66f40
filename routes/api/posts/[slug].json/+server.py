from lib.posts import POSTS, by_slug

from ssg import error, json


def entries():
    return [{"slug": post.slug} for post in POSTS]


def GET(event):
    post = by_slug(event.params["slug"])
    if post is None:
        error(404, "Post not found")
    return json(post)
