from lib.posts import posts


def load(event):
    # Previews: the index's __data.json carries no post bodies.
    return {"title": "All posts", "posts": [post.preview() for post in posts()]}
