from lib.posts import posts

from ssg import error, json


def entries():
    return [{"slug": post.slug} for post in posts()]


def GET(event):
    post = posts().get(event.params["slug"])
    if post is None:
        error(404, "Post not found")
    return json(post)
