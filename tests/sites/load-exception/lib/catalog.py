SLUGS = ["a", "b", "c"]  # listed, but only "c" has a post
POSTS = {"c": {"title": "C"}}
