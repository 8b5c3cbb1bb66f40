def entries():
    return [{"rest": "a/b"}, {"rest": "../../escape"}]
