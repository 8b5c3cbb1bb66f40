prerender = False  # served by ssg serve only
