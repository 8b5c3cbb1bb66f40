from lib.posts import posts

from ssg import error


def load(event):
    tag = event.params["tag"]
    tagged = [post.preview() for post in posts().tagged(tag)]
    if not tagged:
        error(404, f"No posts tagged {tag}")
    return {"title": f"Posts tagged {tag}", "tag": tag, "posts": tagged}
