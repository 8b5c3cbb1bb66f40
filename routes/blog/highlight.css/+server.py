from ssg import text
from ssg.content import highlight_css


def GET(event):
    # The stylesheet for code highlighted by Pygments, written once to build/blog/highlight.css.
    return text(highlight_css("default"), headers={"content-type": "text/css; charset=utf-8"})
