from lib.posts import POSTS


def load(event):
    return {"title": "Blog", "slugs": sorted(POSTS)}
