def load(event):
    return {"site": {"title": "ssg demo", "nav": [("/", "Home"), ("/blog", "Blog"), ("/about", "About")]}}
