from lib.posts import posts

from ssg import error


def entries():
    return [{"slug": post.slug} for post in posts()]


def load(event):
    post = posts().get(event.params["slug"])
    if post is None:
        error(404, "Post not found")
    return {"title": post.title, "description": post.data["description"], "post": post}
