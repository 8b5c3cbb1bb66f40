from ssg import redirect


def load(event):
    redirect(301, "/tags/python/")
