def load(event):
    return {}
