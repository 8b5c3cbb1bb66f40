from lib.posts import pages


def load(event):
    return {"title": "Blog", "page": pages()[0]}
