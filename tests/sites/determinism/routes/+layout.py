def load(event):
    event.depends("app:site")
    return {"site": {"name": "Determinism", "sections": frozenset({"tags", "api", "docs"})}}
