from ssg.content import collection


def load(event):
    return {"tag": event.params["tag"], "posts": [p.slug for p in collection("posts").tagged(event.params["tag"])]}
