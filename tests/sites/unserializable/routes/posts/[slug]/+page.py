def entries():
    return [{"slug": "first"}]


def load(event):
    author = {"name": "Ada", "created": object()}  # not JSON, not a dataclass, no __json__
    return {"post": {"title": "First", "author": author}}
