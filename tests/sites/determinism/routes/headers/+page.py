def load(event):
    event.set_headers({"X-Robots-Tag": "noindex", "Cache-Control": "max-age=60"})
    return {}
