POSTS = {"hello": "Hello"}
