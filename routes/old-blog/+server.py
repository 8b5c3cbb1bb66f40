from ssg import redirect


def GET(event):
    redirect(301, "/blog/")
