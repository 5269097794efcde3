"""What a learner sees in a real browser (Debian's Chromium through Playwright): the emulator's
/authorize login page, and notebook 03 in JupyterLab with its QR button and code widget."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pyotp
import pytest

import browser_support
from browser_support import CHROMIUM_ARGS, TIMEOUT_MS, chromium_path, jupyterlab, lab_environment
from mfa_helpers import MfaClient, Settings, protocol
from mfa_helpers.emulator import Emulator
from mfa_helpers.tokens import decode_token

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(browser_support.missing_browser() is not None,
                                 reason=str(browser_support.missing_browser()))]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
REDIRECT_URI = "http://localhost:3000/settings/callback"
OTP_USER = "otp-user@example.com"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context (its own profile); a screenshot of the last state is kept in tmp_path."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    tab.screenshot(path=tmp_path / "last.png", full_page=True)
    context.close()


@pytest.fixture
def emu():
    with Emulator() as running:
        yield running


# -- 1. The /authorize login page -------------------------------------------------------------------

def test_login_page_with_totp_redirects_with_a_code_for_an_mfa_api_token(emu, page, tmp_path):
    client = MfaClient(Settings(emulator_url=emu.url))
    user = next(u for u in emu.tenant.users if u.username == OTP_USER)
    seed = next(f.secret for f in user.factors if f.type == "otp")
    request = client.authorize_url(REDIRECT_URI, audience=client.mfa_audience,
                                   scope="openid " + " ".join(protocol.MFA_SCOPES))
    # The app's callback page: the browser really navigates there; Playwright answers for it.
    page.route(f"{REDIRECT_URI}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<h1>Back in the app</h1>"))

    page.goto(request.url)
    assert page.title() == f"Log in | {emu.tenant.name}"
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_label("One-time code").fill(wrong_code(seed))
    page.get_by_role("button", name="Continue").click()
    page.screenshot(path=tmp_path / "wrong-otp.png")
    assert page.get_by_role("alert").inner_text() == protocol.ERRORS["invalid_otp"].describe()
    assert urlsplit(page.url).path == "/u/login"  # still the login page: no code for a wrong OTP

    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_label("One-time code").fill(pyotp.TOTP(seed).now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{REDIRECT_URI}?**")
    page.screenshot(path=tmp_path / "callback.png")
    assert page.get_by_role("heading").inner_text() == "Back in the app"
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == [request.state] and len(query["code"]) == 1

    tokens = client.exchange_code(query["code"][0], request)
    access = decode_token(tokens["access_token"])
    assert access.audiences[0] == client.mfa_audience == emu.tenant.mfa_audience
    assert "enroll" in access.scopes and access.claims["sub"]


def wrong_code(seed: str) -> str:
    """Six digits that none of the three time steps the emulator accepts would show."""
    totp, now = pyotp.TOTP(seed), time.time()
    near = {totp.at(now + drift) for drift in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


# -- 2. Notebook 03 in JupyterLab, as a learner runs it -------------------------------------------------

@pytest.fixture
def lab(emu, tmp_path):
    """JupyterLab on a copy of notebooks/, interactive (no CI, no MFA_KIT_HEADLESS), on `emu`."""
    root = shutil.copytree(NOTEBOOKS, tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    with jupyterlab(root, lab_environment(emu.url, tmp_path), tmp_path / "jupyterlab.log") as running:
        yield running


def code_cell(page, source: str):
    """The notebook's code cell whose source contains `source` (a hidden source shows its first
    line in a placeholder, also inside the input wrapper)."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".jp-Cell-inputWrapper", has_text=source))


def run_menu(page, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def test_notebook_03_enrolls_with_the_qr_button_and_the_code_widget(lab, page, tmp_path):
    page.goto(lab.notebook_url("03_enroll_otp.ipynb"))
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    # Run All issued before the kernel is connected runs nothing: wait for it, as a learner would.
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    page.locator(".jp-Notebook").click()
    run_menu(page, "Run All Cells")

    # Run All stops at the confirm cell, which asks for the widget first: no cell waits for a human.
    confirm = code_cell(page, 'confirmation = wt.answer("enroll"')
    confirm.locator(".jp-OutputArea-output", has_text="use the widget above").wait_for()
    page.screenshot(path=tmp_path / "1-run-all.png", full_page=True)

    # The QR code appears behind its button.
    qr = code_cell(page, "show_qr(enrollment")
    qr.get_by_role("button", name="Show QR code").click()
    image = qr.locator("img[alt='enrollment QR code']")
    image.wait_for()
    qr.screenshot(path=tmp_path / "2-qr.png")
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0
    assert qr.get_by_text("Can't scan? Enter this key in the app").is_visible()

    # The virtual authenticator's code: run its cell again, as the notebook says, for a fresh code.
    device = code_cell(page, "wt.show_device(enrollment)")
    device.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    shown = device.locator(".jp-OutputArea-output", has_text="Virtual authenticator app")
    shown.wait_for()
    device.screenshot(path=tmp_path / "3-device.png")
    # Running another cell took the QR code (the TOTP seed) off the screen again.
    assert qr.get_by_role("button", name="Show QR code").is_visible() and image.count() == 0
    code = re.search(r"\b\d{6}\b", shown.inner_text()).group(0)

    entry = code_cell(page, 'widgets.answer_entry(wt, "enroll"')
    box = entry.locator(".widget-text input")
    button = entry.get_by_role("button", name="Confirm")
    assert button.is_disabled()  # until six digits are typed
    box.press_sequentially(code)
    button.click()
    result = entry.locator(".jp-OutputArea-output", has_text="enroll").last
    result.wait_for()
    entry.screenshot(path=tmp_path / "4-confirmed.png")
    assert "\u2714 enroll" in result.inner_text() and "200" in result.inner_text()

    # The rest of the notebook now runs on the widget's answer, through to the authenticators table.
    confirm.locator(".jp-InputArea-editor").click()
    run_menu(page, "Run Selected Cell and All Below")
    table = code_cell(page, "authenticators_table(factors)").locator("table")
    table.wait_for()
    page.screenshot(path=tmp_path / "5-authenticators.png", full_page=True)
    assert "use the widget above" not in confirm.inner_text()
    rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    assert ["otp", "True"] in [[row[1], row[4]] for row in rows]  # columns: id, type, channel, name, active


# -- 3. Notebook 05: the push approved while its poll runs ------------------------------------------------

def run_all(page, lab, notebook: str) -> None:
    """Open `notebook` and Run All, again if the first try came before the kernel was connected."""
    page.goto(lab.notebook_url(notebook))
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    first_prompt = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").first
    for _ in range(3):
        page.locator(".jp-Notebook").click()
        run_menu(page, "Run All Cells")
        try:
            page.wait_for_function("p => /\\[[0-9*]+\\]/.test(p.textContent)", arg=first_prompt.element_handle(),
                                   timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError: nothing ran yet
            continue
    raise AssertionError("Run All Cells ran nothing three times")


def run_from(page, cell) -> None:
    cell.locator(".jp-InputArea-editor").click()
    run_menu(page, "Run Selected Cell and All Below")


def wait_text(cell, text: str, timeout: float = 60) -> None:
    """Wait until `cell` holds `text` (laid out or not: JupyterLab renders only cells in view)."""
    deadline = time.monotonic() + timeout
    while text not in (cell.text_content() or ""):
        assert time.monotonic() < deadline, f"no {text!r} in the cell after {timeout:.0f} s"
        time.sleep(0.5)


def test_notebook_05_push_is_approved_while_the_poll_runs(lab, page, tmp_path):
    run_all(page, lab, "05_challenge.ipynb")
    # Run All stops where a person must answer: the SMS code. The emulator's outbox plays the phone.
    answered = code_cell(page, 'picked = wt.answer("picked"')
    answered.locator(".jp-OutputArea-output", has_text="use the widget above").wait_for()
    # Choose SMS in the dropdown (readable labels) and run on from the choice.
    select = code_cell(page, 'widgets.authenticator_picker(wt, "pick"').locator("select")
    labels = [label.strip() for label in select.locator("option").all_text_contents()]
    assert all("|" not in label for label in labels)
    select.select_option(label=next(label for label in labels if label.startswith("SMS")))
    run_from(page, code_cell(page, 'chosen = wt.choose("pick"'))
    answered.locator(".jp-OutputArea-output", has_text="use the widget above").wait_for()
    # The SMS, live only: run that cell again to see it.
    device = code_cell(page, "wt.show_device(challenge)")
    device.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    shown = device.locator(".jp-OutputArea-output", has_text="is your verification code")
    shown.wait_for()
    code = re.search(r"\b\d{6}\b", shown.inner_text()).group(0)
    entry = code_cell(page, 'widgets.answer_entry(wt, "picked"')
    entry.locator(".widget-text input").press_sequentially(code)
    entry.locator(".widget-text input").press("Enter")  # Enter submits, no click needed
    entry.locator(".jp-OutputArea-output", has_text="\u2714 picked").last.wait_for()

    # On to the push: the poll cell returns at once and keeps polling in the background...
    run_from(page, answered)
    poll = code_cell(page, 'approved = wt.answer("push"')
    # (text, not visibility: the cells below ran too, and JupyterLab does not lay out cells out of view)
    wait_text(poll, "Polling the mfa-oob grant")
    record = code_cell(page, 'wt.record("push"')
    wait_text(record, "approve or reject the push")  # Run All stopped at the record: no answer yet
    page.screenshot(path=tmp_path / "1-polling.png", full_page=True)
    assert "\u2714 push" not in poll.text_content()

    # ...so the kernel is free and Approve works while the poll waits; the poll then gets the tokens.
    code_cell(page, "widgets.push_buttons(wt)").get_by_role("button", name="Approve").click()
    wait_text(poll, "\u2714 push", timeout=20)
    page.screenshot(path=tmp_path / "2-approved.png", full_page=True)
    assert "200" in poll.locator(".jp-OutputArea").text_content()
    run_from(page, poll)  # running the poll cell again shows the answer it got, then on to the record
    wait_text(code_cell(page, 'answered = wt.answer("otp"'), "use the widget above")
    assert "\u2714 push" in poll.text_content()
    assert "push = " in record.text_content() and "200" in record.text_content()


# -- 4. Notebook 09: the /authorize request shown like every other exchange -------------------------------

def test_notebook_09_shows_the_authorize_request_and_the_thread_dead_ends(lab, page, tmp_path):
    run_all(page, lab, "09_manage_from_own_ui.ipynb")
    code_cell(page, 'confirmed = wt.answer("confirm"').locator(
        ".jp-OutputArea-output", has_text="use the widget above").wait_for()
    page.screenshot(path=tmp_path / "09-run-all.png", full_page=True)

    browser = code_cell(page, "code = wt.authorization_code(request, custom)")
    browser.scroll_into_view_if_needed()  # cells out of view are not laid out: no inner text
    requests_shown = browser.locator(".mfa-kit-exchange")
    assert requests_shown.count() == 2  # GET /authorize (the login page), POST /u/login (the redirect)
    authorize = requests_shown.first.text_content()
    assert "GET" in authorize and "/authorize?" in authorize and "200" in authorize
    assert "https://mfa-kit-demo.us.auth0.com/mfa/" in authorize and "remove:authenticators" in authorize
    assert "code_challenge_method" in authorize and "S256" in authorize
    login = requests_shown.nth(1).text_content()
    assert "302" in login and "code=[redacted" in login and "password=[redacted]" in login

    slash_cell = code_cell(page, "refused = custom.open_authorize(no_slash)")
    slash_cell.scroll_into_view_if_needed()
    slash = slash_cell.text_content()
    assert "access_denied" in slash and "https://mfa-kit-demo.us.auth0.com/mfa&" not in slash
    assert "Service not enabled within domain: https://mfa-kit-demo.us.auth0.com/mfa" in unquote_plus(slash)
    expired_cell = code_cell(page, 'expired = wt.after_expiry(')
    expired_cell.scroll_into_view_if_needed()
    expired = expired_cell.text_content()
    assert "not run: it moves the emulator's shared clock" in expired  # move_clock is false by default
