from lib.catalog import SLUGS


def load(event):
    return {"slugs": SLUGS}
