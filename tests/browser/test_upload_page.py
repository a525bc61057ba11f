"""The staff upload page in a browser: real files, real progress events, refusals."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import STAFF, wait_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "docs"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4-second MP4 (H.264 and AAC) made by ffmpeg."""
    if shutil.which("ffmpeg") is None:  # scripts/system-deps installs it for `make test`
        pytest.fail("ffmpeg is missing: run scripts/system-deps")
    path = tmp_path_factory.mktemp("video") / "cleanroom-walkthrough.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         "testsrc=duration=4:size=320x240:rate=25", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest", str(path)], check=True, timeout=120)
    return path


def _found(server, query: str, token: str) -> list[str]:
    answer = httpx.get(f"{server.url}/api/search", params={"q": query},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return [h["title"] for h in answer.json().get("hits", [])] if answer.is_success else []


def test_upload_a_pdf_and_a_video_with_progress_then_find_them(live_server, open_tab, video,
                                                               tmp_path):
    live_server.cli("user", "add", STAFF, "--role", "staff", "--password-stdin",
                    stdin=PASSWORD + "\n")
    token = live_server.cli("token", "create", STAFF)
    tab = open_tab(live_server)
    tab.sign_in(STAFF)
    page = tab.go("/staff/upload")
    page.select_option("#visibility", "public")
    page.set_input_files("#file", [FIXTURES / "en_gowning_guide.pdf", video])
    page.click("#upload-form button[type=submit]")

    rows = page.locator("#upload-queue li")
    wait_for(lambda: rows.count() == 2 and all(
        r.get_attribute("data-state") for r in rows.all()), "both uploads to finish")
    for row in rows.all():
        assert row.get_attribute("data-state") == "done", row.inner_text()
        assert row.locator("progress").evaluate("p => p.value") == 100
        assert row.locator(".percent").inner_text() == "100 %"
    names = [r.locator(".name").inner_text() for r in rows.all()]
    assert names == ["en_gowning_guide.pdf", "cleanroom-walkthrough.mp4"]

    # Indexed by the server's worker: both appear in search, the video filed as a recording.
    wait_for(lambda: "en_gowning_guide.pdf" in _found(live_server, "gowning", token),
             "the PDF in search")
    wait_for(lambda: "cleanroom-walkthrough.mp4" in _found(live_server, "walkthrough", token),
             "the video in search")
    page = tab.go("/search?q=walkthrough")
    assert page.locator(".hit .badge").first.inner_text() == "Recording"

    # A file of a type the library refuses gets the server's own reason, in its row.
    script = tmp_path / "install.sh"
    script.write_bytes(Path("/bin/true").read_bytes())
    page = tab.go("/staff/upload")
    page.set_input_files("#file", script)
    page.click("#upload-form button[type=submit]")
    row = page.locator("#upload-queue li")
    wait_for(lambda: row.get_attribute("data-state") == "refused", "the refusal")
    assert "not accepted" in row.locator(".message").inner_text()
    # A file over the size limit is refused before a byte is sent.
    page.evaluate("document.getElementById('upload-form').dataset.maxSize = '1000'")
    page.set_input_files("#file", FIXTURES / "en_gowning_guide.pdf")
    page.click("#upload-form button[type=submit]")
    last = page.locator("#upload-queue li").last
    assert last.get_attribute("data-state") == "refused"
    assert "too big" in last.locator(".message").inner_text()

    # Files dropped on the zone are uploaded at once.
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["Ordre du jour de la réunion de rentrée."], "ordre-du-jour.txt",
                                {type: "text/plain"}));
        document.getElementById("drop-zone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""")
    dropped = page.locator("#upload-queue li").last
    wait_for(lambda: dropped.get_attribute("data-state") == "done", "the dropped file")
    assert dropped.locator(".name").inner_text() == "ordre-du-jour.txt"


def test_progress_moves_with_the_bytes_sent_and_cancel_stops_the_upload(live_server, open_tab,
                                                                        tmp_path):
    """GIVEN an upload link slowed to 512 KB/s WHEN a 4 MB file is sent THEN the bar shows a
    share between 0 and 100 %, and Cancel stops it: no resource is created."""
    live_server.cli("user", "add", STAFF, "--role", "staff", "--password-stdin",
                    stdin=PASSWORD + "\n")
    token = live_server.cli("token", "create", STAFF)
    notes = tmp_path / "notes.txt"
    notes.write_text("Compte rendu de réunion.\n" * 170_000, encoding="utf-8")
    tab = open_tab(live_server)
    tab.sign_in(STAFF)
    page = tab.go("/staff/upload")
    devtools = tab.context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 512 * 1024})
    page.set_input_files("#file", notes)
    page.click("#upload-form button[type=submit]")
    row = page.locator("#upload-queue li")
    bar = row.locator("progress")
    wait_for(lambda: 0 < bar.evaluate("p => p.value") < 100, "a partial progress", timeout=20)
    row.locator("button.cancel").click()
    wait_for(lambda: row.get_attribute("data-state") == "cancelled", "the cancellation")
    assert row.locator(".message").inner_text() == "Cancelled."
    assert row.locator("button.cancel").is_hidden()
    listed = httpx.get(f"{live_server.url}/api/resources",
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert listed["total"] == 0
