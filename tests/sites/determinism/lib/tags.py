import datetime

# A set: its iteration order changes with PYTHONHASHSEED.
TAGS = {"async", "jinja", "python", "static", "web", "yaml", "toml", "html"}
PUBLISHED = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
