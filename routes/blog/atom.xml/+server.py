from lib.posts import FEED_TITLE, posts

from ssg.content import atom


def GET(event):
    return atom(posts()[:20], title=FEED_TITLE, url=event.url, home="/blog", subtitle="Notes on building ssg")
