"""Notebook rendering: exchanges redacted side by side; the QR code only in live display."""
import json

import nbformat
from nbclient import NotebookClient

from mfa_helpers import display, live
from mfa_helpers.exchange import Exchange

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URI = f"otpauth://totp/MFA%20Kit%20Demo:learner%40example.com?secret={SECRET}&issuer=MFA%20Kit%20Demo"
MFA_TOKEN = "Fe26.2*1*" + "k3" * 400


def _exchange(status: int = 403) -> Exchange:
    return Exchange("POST", "http://127.0.0.1:8787/oauth/token",
                    {"Content-Type": "application/json", "User-Agent": "python-requests"},
                    json.dumps({"grant_type": "password", "password": "pw-Pl4nted", "username": "learner@example.com"}),
                    status, "Forbidden", {"Content-Type": "application/json"},
                    json.dumps({"error": "mfa_required", "mfa_token": MFA_TOKEN}))


def test_exchange_renders_method_url_coloured_status_pretty_json_and_collapsible_curl():
    page = display.exchange_html(_exchange())
    assert "<b>POST</b>" in page and "http://127.0.0.1:8787/oauth/token" in page
    assert "color:#bc4c00;font-weight:bold'>403 Forbidden" in page
    assert '&quot;error&quot;: &quot;mfa_required&quot;,\n' in page  # pretty-printed, one field per line
    assert "<details><summary>curl</summary>" in page and "curl -X POST" in page
    assert "pw-Pl4nted" not in page and MFA_TOKEN not in page and "learner@example.com" not in page
    assert "color:#1a7f37" in display.exchange_html(_exchange(200))


def test_network_failure_renders_grey_with_the_error():
    failed = Exchange("GET", "https://x.invalid/mfa/authenticators", error="dns: Name or service not known")
    assert "no response</span> dns: Name or service not known" in display.exchange_html(failed)


def test_authenticators_table_has_the_columns_and_masks_names():
    table = display.authenticators_table([
        {"id": "totp|dev_1", "authenticator_type": "otp", "active": True},
        {"id": "email|dev_2", "authenticator_type": "oob", "oob_channel": "email", "name": "learner@example.com",
         "active": False}])
    assert table.columns == ("id", "type", "channel", "name", "active")
    assert table.rows[1] == ("email|dev_2", "oob", "email", "l•••@•••.com", False)
    assert "<td style='text-align:left'>l•••@•••.com</td>" in table._repr_html_()
    assert repr(table).splitlines() == ["id           type  channel  name          active",
                                        "totp|dev_1   otp" + " " * 26 + "True",
                                        "email|dev_2  oob   email    l•••@•••.com  False"]


def test_live_panel_reveals_on_click_and_hides_again():
    panel = live.LiveQrPanel(URI)
    assert panel.view.value == "" and SECRET not in repr(panel)
    panel.button.click()
    assert "data:image/png;base64," in panel.view.value and "JBSW Y3DP" in panel.view.value
    panel.button.click()
    assert panel.view.value == ""


def _run(tmp_path, *sources: str) -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    return path.read_text()



def test_saved_notebook_keeps_neither_image_nor_secret_unless_asked(tmp_path):
    source = tmp_path / "enrollment.txt"  # as in a notebook, the URI comes from data, not from the cell's text
    source.write_text(URI)
    load = f"from mfa_helpers.display import show_qr\nuri = open({str(source)!r}).read()\n"
    saved = _run(tmp_path, load + "panel = show_qr(uri)", "panel.button.click()  # a learner clicks 'Show QR code'", "1 + 1")
    assert SECRET not in saved and "JBSW Y3DP" not in saved and "data:image/png" not in saved
    assert "application/vnd.jupyter.widget-view+json" in saved and "live display only" in saved
    # Hiding on the next cell is what keeps the file clean: revealed in the last cell, nbclient saves
    # the widget state with the QR (JupyterLab does not save widget state unless asked).
    revealed_last = _run(tmp_path, load + "panel = show_qr(uri)", "panel.button.click()")
    assert "JBSW Y3DP" in revealed_last and "application/vnd.jupyter.widget-state+json" in revealed_last
    kept = _run(tmp_path, load + "show_qr(uri, keep=True)")
    assert "data:image/png" in kept and "JBSW Y3DP" in kept  # the opt-in does save: the check above can fail
