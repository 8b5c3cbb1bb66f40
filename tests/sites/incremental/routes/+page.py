from ssg.content import collection


def load(event):
    return {"posts": list(collection("posts"))}
