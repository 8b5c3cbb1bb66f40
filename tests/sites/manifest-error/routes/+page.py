# Importing this file leaves a marker: the test checks that no user code ran.
from pathlib import Path

Path(__file__).resolve().parents[1].joinpath("imported.marker").write_text("imported")


def load(event):
    return {}
