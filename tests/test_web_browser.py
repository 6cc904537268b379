"""The chat page in a real headless chromium, against the real stack (`budgetqa serve` in a subprocess).

The browser runs with the network blocked (a dead proxy and a resolver that finds nothing but
loopback), so the page must render from the local server alone. Requires Debian's chromium and
chromium-driver; without them the tests skip, or fail when BUDGETQA_REQUIRE_BROWSER=1 (CI).
Screenshots land in the test's tmp folder; BUDGETQA_SCREENSHOT=path also copies the chat view there
(that is how docs/screenshot.png is made).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
STARTUP_LIMIT = 900  # seconds; a hang guard for indexing the seeds on first start, not a measurement
ANSWER_LIMIT = 300
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", "--lang=zh-CN",
                # Offline: anything not on loopback goes to a dead proxy and resolves to nothing.
                "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

TINY_BUDGET = "\n".join([
    "2025 年度", "闽清县档案馆部门预算", "", "# 第一部分", "", "## 部门概况", "",
    "闽清县档案馆主要负责全县档案的收集、保管和利用。", "", "# 第二部分", "",
    "## 一般公共预算“三公”经费支出预算表", "", "### 2025年度一般公共预算“三公”经费支出预算表", "",
    "单位：万元", "", "项目\t预算数", "合计\t12.30", "1、因公出国（境）费用\t0.00", "2、公务接待费\t3.20",
    "3、公务用车购置及运行费\t9.10", "其中：（1）公务用车购置费\t0.00", "（2）公务用车运行费\t9.10", ""])


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[dev]')")
    if not missing:
        return
    message = f"浏览器测试需要 {', '.join(missing)}：apt-get install -y chromium chromium-driver"
    if os.environ.get("BUDGETQA_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "（BUDGETQA_REQUIRE_BROWSER=1，不能跳过）", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"budgetqa serve exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"budgetqa serve did not come up within {STARTUP_LIMIT}s:\n{log.read_text(errors='replace')[-3000:]}")


HOMES: dict[str, Path] = {}  # server URL -> its BUDGETQA_HOME, for the operator's `budgetqa index`


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("web-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETQA_")}
    env.update({"BUDGETQA_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
                # Facts, checker and ingest are the real ones; vectors off keeps the first start short
                # (answers come from the fact store; the vector index only helps narrative questions).
                # BUDGETQA_TEST_DENSE=1 runs with the embedding model too.
                "BUDGETQA_DENSE": os.environ.get("BUDGETQA_TEST_DENSE", "0")})
    log = tmp / "serve.log"
    cmd = [sys.executable, "-c", "from budgetqa.app.cli import main; main()", "serve", "--host", "127.0.0.1",
           "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp)
    url = f"http://127.0.0.1:{port}/"
    HOMES[url] = tmp / "home"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(server)
        _question_box(driver)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


# ---- page helpers ---------------------------------------------------------------------------------


def _wait(driver: Any, condition: Any, what: str, limit: float = ANSWER_LIMIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, limit, poll_frequency=0.3).until(lambda d: condition(d))
    except TimeoutException:
        pytest.fail(f"timed out waiting for {what}; page text:\n{_text(driver, 'body')[-2000:]}")


def _question_box(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "#bq-question textarea"), "the question box")


def _text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return "\n".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def _bot_messages(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, "#bq-chat [data-testid='bot']"))


def _ask(driver: Any, question: str, *, typed: bool = True) -> Any:
    """Ask and return the finished answer bubble."""
    from selenium.webdriver.common.by import By

    before = len(_bot_messages(driver))
    box = _question_box(driver)
    if typed:
        box.clear()
        box.send_keys(question)
    else:  # a very long paste: set the value the way the page's input binding sees it
        driver.execute_script("arguments[0].value = arguments[1];"
                              "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", box, question)
    driver.find_element(By.ID, "bq-send").click()

    def done(d: Any) -> Any:
        bots = _bot_messages(d)
        return bots[-1] if len(bots) > before and "正在查找" not in bots[-1].text else None

    return _wait(driver, done, f"the answer to {question[:30]!r}")


def _tab(driver: Any, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//button[@role='tab'][contains(normalize-space(.), '{name}')]").click()


def _new_conversation(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "bq-clear").click()
    _wait(driver, lambda d: not _bot_messages(d), "the chat to clear", 30)


# ---- tests ----------------------------------------------------------------------------------------


def test_page_renders_with_the_network_blocked(browser: Any, server: str) -> None:
    assert "预算问答" in browser.title
    assert "政府预算决算问答" in _text(browser, "body")
    loaded = browser.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".map(e => e.name)")
    assert loaded and all(u.startswith(server) for u in loaded), [u for u in loaded if not u.startswith(server)]
    failed = [e["message"] for e in browser.get_log("browser") if "net::ERR" in e["message"]]
    assert not failed, failed


def test_question_answer_citation_and_follow_up(browser: Any, server: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    _new_conversation(browser)
    answer = _ask(browser, "福州市医疗保障局的公务接待费是多少")
    marks = [m.text for m in answer.find_elements(By.CSS_SELECTOR, "mark.bq-fig")]
    assert "5.00万元" in marks, answer.text
    assert answer.find_elements(By.CSS_SELECTOR, ".bq-badge-ok"), answer.text
    assert "✔ 已核对" in answer.text and "未能核对" not in answer.text
    assert "001_99a0e79d6e43ffbd.txt" in answer.text and "公务接待费" in answer.text

    # The first source opens onto the whole row with its column headers.
    answer.find_element(By.CSS_SELECTOR, "details.bq-citation summary").click()
    cited = _wait(browser, lambda d: [r for r in answer.find_elements(By.CSS_SELECTOR, "tr.bq-row-cited")
                                      if r.is_displayed()], "the cited row in its table", 30)
    assert "公务接待费" in cited[0].text and "5.00" in cited[0].text
    headers = [th.text for th in answer.find_elements(By.CSS_SELECTOR, "table.bq-table th")]
    assert "项目" in headers and len(headers) >= 2
    browser.execute_script("window.scrollTo(0, 0)")  # opening the source scrolled the title away
    browser.save_screenshot(str(shots / "chat.png"))
    target = os.environ.get("BUDGETQA_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / "chat.png", target)

    follow = _ask(browser, "那差旅费呢？")
    assert "6.50万元" in [m.text for m in follow.find_elements(By.CSS_SELECTOR, "mark.bq-fig")], follow.text
    assert "福州市医疗保障局" in follow.text
    browser.save_screenshot(str(shots / "follow-up.png"))

    # A second visitor (another tab = another session) has no history: the same follow-up does not
    # inherit the first visitor's unit.
    first_answer = follow.text
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    try:
        browser.get(server)
        _question_box(browser)
        assert not _bot_messages(browser)
        other = _ask(browser, "那差旅费呢？")
        assert other.text != first_answer, other.text
    finally:
        browser.close()
        browser.switch_to.window(first_tab)


def test_clicking_an_example_asks_it(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _new_conversation(browser)
    before = len(_bot_messages(browser))
    example = browser.find_element(By.CSS_SELECTOR, "#bq-examples button")
    question = example.text.strip()
    assert question
    example.click()

    def done(d: Any) -> Any:
        bots = _bot_messages(d)
        return bots[-1] if len(bots) > before and "正在查找" not in bots[-1].text else None

    answer = _wait(browser, done, "the example's answer")
    assert question in _text(browser, "#bq-chat [data-testid='user']")
    assert "出错" not in answer.text and "无法回答" not in answer.text, answer.text
    assert "已核对" in answer.text or "未找到" in answer.text or "未能核对" in answer.text, answer.text


def test_bad_questions_get_clear_messages(browser: Any) -> None:
    _new_conversation(browser)
    empty = _ask(browser, "")
    assert "⚠" in empty.text and "问题" in empty.text, empty.text
    long = _ask(browser, "公务接待费" * 1000, typed=False)
    assert "⚠" in long.text and "已核对" not in long.text, long.text
    user = _text(browser, "#bq-chat [data-testid='user']")
    assert "共 5000 字" in user


def test_upload_a_document_then_ask_about_it(browser: Any, tmp_path: Path, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    good = tmp_path / "minqing_archives_2025.txt"
    good.write_text(TINY_BUDGET, encoding="utf-8")
    bad = tmp_path / "shopping_list.txt"
    bad.write_text("购物清单\n牛奶 2 盒\n鸡蛋 12 个\n", encoding="utf-8")

    _tab(browser, "文档")
    docs_before = _text(browser, "#bq-docs")
    assert "001_99a0e79d6e43ffbd.txt" in docs_before and "闽清县档案馆" not in docs_before
    browser.find_element(By.CSS_SELECTOR, "#bq-upload input[type='file']").send_keys(f"{good}\n{bad}")
    # The file list prints name and extension in separate elements.
    _wait(browser, lambda d: good.stem in _text(d, "#bq-upload") and bad.stem in _text(d, "#bq-upload"),
          "both files to upload", 60)
    browser.find_element(By.ID, "bq-index").click()
    status = _wait(browser, lambda d: _text(d, "#bq-upload-status") if "加入索引" in _text(d, "#bq-upload-status")
                   else None, "the indexing result")
    assert f"已加入索引：您上传的文件/{good.name}" in status and "只加入您本次会话" in status, status
    assert f"无法加入索引：{bad.name}" in status, status
    _wait(browser, lambda d: "闽清县档案馆" in _text(d, "#bq-docs"), "the new document in the list", 30)
    docs_after = _text(browser, "#bq-docs")
    assert "001_99a0e79d6e43ffbd.txt" in docs_after and bad.name not in docs_after
    assert good.stem not in _text(browser, "#bq-upload"), "the file picker is emptied after indexing"
    browser.save_screenshot(str(shots / "documents.png"))

    _tab(browser, "问答")
    unit_filter = browser.find_element(By.CSS_SELECTOR, "#bq-unit input")
    unit_filter.click()
    options = _wait(browser, lambda d: _text(d, "[role='listbox']"), "the unit filter's options", 30)
    assert "闽清县档案馆" in options, options
    unit_filter.send_keys(Keys.ESCAPE)
    assert unit_filter.get_attribute("value") == "全部单位"

    _new_conversation(browser)
    answer = _ask(browser, "闽清县档案馆的公务接待费是多少")
    assert "3.20万元" in [m.text for m in answer.find_elements(By.CSS_SELECTOR, "mark.bq-fig")], answer.text
    assert good.name in answer.text and "✔ 已核对" in answer.text
    browser.save_screenshot(str(shots / "uploaded.png"))
    assert (shots / "uploaded.png").stat().st_size > 0


def _highlighted_pixels(png: bytes) -> int:
    """Pixels of the highlight's fill (yellow at 35 % over white paper) in a rendered page."""
    import pymupdf

    pix = pymupdf.Pixmap(png)
    data, n = pix.samples, pix.n
    return sum(1 for i in range(0, len(data), n * 7)  # every 7th pixel is plenty
               if data[i] > 235 and 220 < data[i + 1] < 250 and 130 < data[i + 2] < 200)


def test_pdf_source_opens_onto_its_page_with_the_row_marked(browser: Any, server: str, shots: Path) -> None:
    """The operator indexes a PDF (page uploads stay private to their session), a citizen asks about one of
    its figures and opens the source: the printed page appears with the cited row boxed, and a link opens
    the PDF at that page. The running server picks the new index up without a restart."""
    from selenium.webdriver.common.by import By

    from tests.paths import EXTRA

    pdf = EXTRA / "wuxi-petition-bureau-2025-budget.pdf"
    assert pdf.is_file(), f"{pdf} is missing (../shared beside the checkout, or BUDGETQA_SHARED)"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BUDGETQA_")},
           "BUDGETQA_HOME": str(HOMES[server]), "BUDGETQA_DENSE": "0", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", "from budgetqa.app.cli import main; main()", "index", "-q", str(pdf)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

    _tab(browser, "问答")
    _new_conversation(browser)
    answer = _ask(browser, "无锡市信访局的公务接待费是多少")
    assert "1.50万元" in [m.text for m in answer.find_elements(By.CSS_SELECTOR, "mark.bq-fig")], answer.text
    summary = answer.find_element(By.CSS_SELECTOR, "details.bq-citation summary")
    assert summary.text.startswith("无锡市信访局2025年部门预算"), summary.text  # the title first, the file after
    assert pdf.name in summary.text and "第" in summary.text

    summary.click()
    img = _wait(browser, lambda d: next((i for i in answer.find_elements(By.CSS_SELECTOR, "img.bq-page-img")
                                         if i.is_displayed() and d.execute_script(
                                             "return arguments[0].complete && arguments[0].naturalWidth", i)),
                                        None), "the page picture", 60)
    assert int(browser.execute_script("return arguments[0].naturalWidth", img)) > 500
    with urllib.request.urlopen(img.get_attribute("src"), timeout=30) as resp:
        assert resp.headers["Content-Type"] == "image/png"
        assert _highlighted_pixels(resp.read()) > 50, "the cited row is boxed on the page"
    link = answer.find_element(By.CSS_SELECTOR, "a.bq-pdf")
    href = link.get_attribute("href")
    assert href.startswith(server) and "#page=" in href, href
    with urllib.request.urlopen(href.split("#")[0], timeout=30) as resp:
        assert resp.headers["Content-Type"] == "application/pdf" and resp.read(5) == b"%PDF-"

    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", summary)
    browser.save_screenshot(str(shots / "source-page.png"))
    target = os.environ.get("BUDGETQA_SCREENSHOT_SOURCE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shots / "source-page.png", target)


def test_only_indexed_pdfs_are_served(server: str) -> None:
    for path in ("bq/pdf/0123456789abcdef.pdf", "bq/pdf/..%2F..%2Fetc%2Fpasswd.pdf", "bq/page/zz/1.png",
                 "bq/page/0123456789abcdef/1.png?q=x"):
        try:
            urllib.request.urlopen(server + path, timeout=30)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == 404, path
