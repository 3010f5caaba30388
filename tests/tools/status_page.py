# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a status page shows once headless Chromium has loaded it: the title, the summary counts and each host's row.

    status_page.py PAGE.html    # prints {"title", "counts", "rows": [{"attrs", "cells"}]} as JSON

Used by tests/integration/test_status_report.py and by the site scenario's verify step.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def rendered_dom(chromium, page, profile):
    """The DOM of ``page`` after Chromium loaded and laid it out."""
    completed = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", Path(page).resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    if "<table" not in completed.stdout:
        raise RuntimeError("Chromium rendered no table: " + completed.stderr)
    return completed.stdout


class Report(HTMLParser):
    """Reads what the page shows: the summary counts and, per host row, its cells and data attributes."""

    def __init__(self):
        super().__init__()
        self.counts = {}
        self.rows = []
        self.title = ""
        self._card = None
        self._in = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self._in = "title"
        if tag == "div" and (attrs.get("id") or "").startswith("count-"):
            self._card = attrs["id"][len("count-") :]
        if tag == "span" and self._card and "count" in (attrs.get("class") or "").split():
            self._in = "count"
        if tag == "tr" and "data-host" in attrs:
            self._row = {"attrs": attrs, "cells": []}
        if tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("title", "span"):
            self._in = None
        if tag == "div":
            self._card = None
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "count":
            self.counts[self._card] = int(data)
        elif self._cell is not None:
            self._cell.append(data)

    def host(self, name):
        return next(row for row in self.rows if row["attrs"]["data-host"] == name)


def read_report(chromium, html, profile):
    report = Report()
    report.feed(rendered_dom(chromium, html, profile))
    return report


def main(page):
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        report = read_report(chromium, page, profile)
    print(json.dumps({"title": report.title.strip(), "counts": report.counts, "rows": report.rows}))


if __name__ == "__main__":
    main(*sys.argv[1:])
