def entries():
    return [
        {"slug": ".."},
        {"slug": ""},
        {"slug": "a\x00b"},
        {"slug": "a\\b"},
        {"slug": "a/b"},
        {"slug": "fine"},
    ]
