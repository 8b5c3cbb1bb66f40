from lib.posts import posts

from ssg import error


# No entries(): tag pages are reached only by the crawl, through the links on post pages.
def load(event):
    tag = event.params["tag"]
    tagged = [post.preview() for post in posts().tagged(tag)]
    if not tagged:
        error(404, f"No posts tagged {tag}")
    return {"title": f"Posts tagged {tag}", "tag": tag, "posts": tagged}
