from lib.posts import posts


def load(event):
    blog = posts()
    return {"title": "Tags", "tags": [{"name": tag, "count": len(blog.tagged(tag))} for tag in blog.tags()]}
