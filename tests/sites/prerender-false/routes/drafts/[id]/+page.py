prerender = False
