import asyncio
import os
from pathlib import Path


async def load(event):
    marker = os.environ.get("SLOW_LOAD_MARKER")
    if marker:
        # Tell the test the build is under way, then take far longer than it will wait.
        Path(marker).write_text("loading")
        await asyncio.sleep(60)
    return {"title": "Slow"}
