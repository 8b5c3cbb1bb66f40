def match(value):
    return int(value) > 0  # raises ValueError for "abc" instead of returning False
