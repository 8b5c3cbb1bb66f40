from lib.notes import NOTES


def load(event):
    return {"title": "Notes", "notes": sorted(NOTES.items())}
