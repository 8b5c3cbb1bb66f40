from lib.posts import newest_first


def load(event):
    return {"title": "Blog", "posts": newest_first()}
