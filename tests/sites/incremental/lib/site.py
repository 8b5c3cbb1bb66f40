SITE_NAME = "Incremental"
EXTRA = ["a", "b"]
