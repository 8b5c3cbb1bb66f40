from lib.tags import TAGS


def entries():
    return [{"tag": tag} for tag in TAGS]  # in set order, on purpose


def load(event):
    return {"tag": event.params["tag"], "others": TAGS - {event.params["tag"]}}
