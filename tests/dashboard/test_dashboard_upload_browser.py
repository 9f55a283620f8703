"""An officer uploads a list with errors in Debian's Chromium: the preview names each bad row and column,
the import is refused until the valid rows are accepted, then the new list opens. Screenshots at
1280x800 go to tests/artifacts/screenshots/ (or $QINGSHEN_SCREENSHOTS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.dashkit import (
    UPLOAD_ROWS,
    Fixture,
    list_csv,
    log_in_page,
    served_dashboard,
)
from tests.webkit import BROWSER_MARKS, DESKTOP, announce_screenshots, chromium, screenshot_dir, watch_errors

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Fixture]]:
    with served_dashboard(tmp_path_factory.mktemp("upload")) as (base, fixture, _):
        yield base, fixture


def test_upload_a_list_with_errors_preview_and_import_the_valid_rows(served: tuple[str, Fixture],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = served
    shots = screenshot_dir()
    with chromium() as browser:
        page: Any = browser.new_page(viewport=DESKTOP, locale="zh-CN")
        page.set_default_timeout(15_000)
        errors = watch_errors(page)
        log_in_page(page, base)
        page.click("a.upload-link")
        page.wait_for_url(base + "/officer/upload")

        page.set_input_files("form.upload input[type=file]", files=[
            {"name": "晋环发2026-9号名单.csv", "mimeType": "text/csv", "buffer": list_csv(UPLOAD_ROWS)}])
        page.click("form.upload button")
        page.locator("#preview table.row-errors").wait_for()
        lines = page.locator("tr.row-error td:first-child").all_inner_texts()
        assert lines == ["5", "6"]
        assert page.locator("tr.row-error.checksum td:nth-child(2)").inner_text() == "统一社会信用代码"
        assert "2 家尚未登记的企业，1 家已登记" in page.locator("p.creates").inner_text()
        page.screenshot(path=str(shots / "dashboard-upload-preview-1280.png"), full_page=True)

        page.click("form.import button")  # without accepting: refused, nothing imported
        page.locator("form.import .form-error").filter(has_text="未导入").wait_for()
        page.check("form.import input[name=accept_partial]")
        imports: list[str] = []
        page.on("request", lambda r: imports.append(r.url) if "/officer/upload/import" in r.url else None)
        page.dblclick("form.import button")  # sent once: a second import answered "nothing new" over the first
        page.locator("#preview p.done").wait_for()
        page.wait_for_load_state("networkidle")  # a second answer would have replaced the first by now
        assert len(imports) == 1 and page.locator("#preview p.nothing-new").count() == 0, imports
        page.screenshot(path=str(shots / "dashboard-upload-imported-1280.png"), full_page=True)
        page.click("#preview a")
        page.wait_for_url("**/officer/lists/*")
        assert page.locator("tr.enterprise").count() == 3
        page.screenshot(path=str(shots / "dashboard-upload-list-1280.png"), full_page=True)
        # the one refused import is logged by Chromium as a failed resource; nothing else went wrong
        assert len(errors) == 1 and "status of 400" in errors[0], errors
        page.close()
    announce_screenshots(capsys, ["dashboard-upload-preview-1280.png", "dashboard-upload-imported-1280.png",
                                  "dashboard-upload-list-1280.png"])
