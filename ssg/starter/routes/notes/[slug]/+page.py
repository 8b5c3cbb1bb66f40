from lib.notes import NOTES

from ssg import error


def entries():
    return [{"slug": slug} for slug in sorted(NOTES)]


def load(event):
    note = NOTES.get(event.params["slug"])
    if note is None:
        error(404, "No such note")
    return {"title": note["title"], "note": note}
