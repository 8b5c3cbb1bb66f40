def load(event):
    return {"id": event.params["id"]}
