from lib.posts import POSTS, by_slug

from ssg import error


def entries():
    return [{"slug": post.slug} for post in POSTS]


async def load(event):
    post = by_slug(event.params["slug"])
    if post is None:
        error(404, "Post not found")
    return {"title": post.title, "post": post}
