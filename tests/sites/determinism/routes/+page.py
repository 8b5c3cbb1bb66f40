from lib.tags import PUBLISHED, TAGS


async def load(event):
    event.depends("app:tags")
    return {"tags": TAGS, "published": PUBLISHED}
