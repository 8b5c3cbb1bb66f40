from ssg import text


def GET(event):
    return text("the feed")  # written as the file feed: nothing can live below it
