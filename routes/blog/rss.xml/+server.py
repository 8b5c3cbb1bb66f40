from lib.posts import FEED_TITLE, posts

from ssg.content import rss


def GET(event):
    return rss(posts()[:20], title=FEED_TITLE, url=event.url, home="/blog", description="Notes on building ssg")
