def entries():
    return [{"rest": "a/b"}]  # a rest param may span segments
