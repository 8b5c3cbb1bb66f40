from lib.posts import pages

from ssg import error


def entries():
    # Page 1 is /blog/ itself.
    return [page.entry("n") for page in pages()[1:]]


def load(event):
    all_pages = pages()
    n = event.params["n"]
    if not n.isdigit() or not 2 <= int(n) <= len(all_pages):
        error(404, f"There is no page {n} of the blog")
    page = all_pages[int(n) - 1]
    return {"title": f"Blog, page {page.number}", "page": page}
