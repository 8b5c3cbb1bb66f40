def load(event):
    rest = event.params["rest"]
    if ".." in rest or "\\" in rest or "\x00" in rest or "//" in rest:
        raise RuntimeError(f"a load saw the unsafe value {rest!r}")
    return {"rest": rest}
