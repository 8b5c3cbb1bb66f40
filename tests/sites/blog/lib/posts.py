POSTS = {"hello": "Hello", "second": "Second post"}
