"""Browser tests: the session `app` served over HTTP to a real Chromium driven by Playwright."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# How long a browser test waits for something it needs before it gives up: a page to show a text, a report to
# reach the server, credit to accrue. One generous deadline for every such wait, because a loaded CI machine (two
# pytest passes, Chromium and PostgreSQL on two cores) is slow by seconds at any moment, and a deadline only costs
# time when the test fails anyway. LMS_BROWSER_PATIENCE scales it (2: twice as long). A test never asserts that
# something happened by a fixed moment; it waits for it, up to this.
PATIENCE = float(os.environ.get("LMS_BROWSER_PATIENCE") or 1)
DEADLINE = 30.0 * PATIENCE          # seconds
DEADLINE_MS = DEADLINE * 1000       # Playwright's unit
expect.set_options(timeout=DEADLINE_MS)   # Playwright's own default for expect() is 5 s


def patient(seconds: float) -> float:
    """A deadline in seconds for a wait whose premise needs at least ``seconds`` on an idle machine: scaled, and
    never shorter than DEADLINE."""
    return max(seconds * PATIENCE, DEADLINE)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture()
def live_server(app, db):
    """Serve the session app on a free local port for one test, with CSRF protection on."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.config["WTF_CSRF_ENABLED"] = False  # the rest of the suite posts without tokens


@pytest.fixture(scope="session")
def pw():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(pw):
    chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture()
def artifacts(request) -> Path:
    """A fresh folder test-artifacts/<test name>/ under the project root for screenshots."""
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
