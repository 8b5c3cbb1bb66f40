from lib.site import EXTRA


def entries():
    return [{"id": x} for x in EXTRA]


def load(event):
    return {"id": event.params["id"]}
