from lib.catalog import POSTS


def title_of(slug):
    return POSTS[slug]["title"]


def load(event):
    return {"title": title_of(event.params["slug"])}
