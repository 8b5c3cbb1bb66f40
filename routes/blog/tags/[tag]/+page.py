from lib.posts import newest_first

from ssg import error


def load(event):
    tag = event.params["tag"]
    posts = [p for p in newest_first() if tag in p.tags]
    if not posts:
        error(404, f"No posts tagged {tag}")
    return {"title": f"Posts tagged {tag}", "tag": tag, "posts": posts}
