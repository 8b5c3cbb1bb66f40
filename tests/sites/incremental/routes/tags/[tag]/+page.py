from ssg.content import collection


def load(event):
    # Summaries only: a tag page renders again when a post's first paragraph changes, not a later one.
    tagged = collection("posts").tagged(event.params["tag"])
    return {"tag": event.params["tag"], "posts": [{"slug": p.slug, "summary": p.summary} for p in tagged]}
