async def load(event):
    info = await event.fetch("/data.json")
    return {"info": info.json()}
