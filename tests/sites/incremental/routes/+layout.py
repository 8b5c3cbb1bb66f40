from lib.site import SITE_NAME


def load(event):
    return {"site": SITE_NAME}
