"""The import page's plumbing: the uploaded file kept between the dry run and the import, and the import
itself streamed to the browser as a progress bar (no script needed: each step draws the next bar)."""
import re
import secrets
import time
from pathlib import Path

from flask import current_app, stream_template

from .csvio import importing

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600


def _folder():
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_upload(data: bytes):
    """Store an uploaded file for the import that follows its dry run; the token that names it."""
    folder = _folder()
    for old in folder.glob("*.csv"):
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (folder / f"{token}.csv").write_bytes(data)
    return token


def take_upload(token):
    """The file kept under `token`, removed as it is taken (an import runs once); None if there is none."""
    if not TOKEN.match(token or ""):
        return None
    path = _folder() / f"{token}.csv"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return data


class ImportRun:
    """Iterating runs the import, yielding (done, total, percent) as it goes; `report` is there at the end."""

    def __init__(self, actor, data, every):
        self.actor, self.data, self.every, self.report = actor, data, every, None

    def __iter__(self):
        steps = importing(self.actor, self.data, dry_run=False, every=self.every)
        while True:
            try:
                done, total = next(steps)
            except StopIteration as finished:
                self.report = finished.value
                return
            yield done, total, round(100 * done / total) if total else 100


def import_with_progress(actor, data):
    """The import page, streamed: a progress bar that grows while the rows go in, then the report."""
    run = ImportRun(actor, data, every=current_app.config["CUSTOMER_IMPORT_PROGRESS_EVERY"])
    return stream_template("crm/import_running.html", run=run)
