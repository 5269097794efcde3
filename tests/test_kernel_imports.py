"""What a notebook's kernel loads: every notebook's first cell, and a headless lesson's calls, load
neither PyJWT nor cryptography (reading a token's claims needs base64 and JSON only) nor ipywidgets
(headless, no widget is built), on the emulator as on a tenant (the rehearsal). Each check runs
in a fresh interpreter, as a kernel would."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mfa_helpers.emulator import Emulator
from notebook_runs import NOTEBOOKS_DIR, headless_env

NOT_LOADED = ("jwt", "cryptography", "ipywidgets")
REPORT = f"import json, sys; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(NOT_LOADED)!r})))"

# A headless lesson in short: sign in, enroll the virtual authenticator, the (headless: absent)
# widget, the grant, and what the notebooks show and record of its tokens and factors.
HEADLESS_LESSON = """
from mfa_helpers import walkthrough, widgets
from mfa_helpers.display import authenticators_table, show
wt = walkthrough.connect("kernel_imports", "auto")
mfa = wt.mfa_required()
show(wt.client.session.last)
enrollment = wt.enroll("otp", mfa.mfa_token)
wt.show_device(enrollment)
assert widgets.answer_entry(wt, "enroll", mfa.mfa_token, enrollment) is None
confirmation = wt.answer("enroll", mfa.mfa_token, enrollment)
assert walkthrough.token_summary(confirmation.response)["audiences"][0] == wt.client.mfa_audience
assert authenticators_table(wt.authenticators()).rows
wt.finish()
"""


def first_cells() -> list[str]:
    """The import cell of each notebook (its first code cell after the parameters), each once."""
    cells = set()
    for path in NOTEBOOKS_DIR.glob("*.ipynb"):
        code = [c for c in json.loads(path.read_text())["cells"]
                if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])]
        cells.add("".join(code[0]["source"]))
    return sorted(cells)


def loaded_after(source: str, env: dict[str, str]) -> list[str]:
    """Which of NOT_LOADED a fresh interpreter holds after `import IPython` and `source`."""
    proc = subprocess.run([sys.executable, "-c", f"import IPython\n{source}\n{REPORT}"], env=env,
                          cwd=NOTEBOOKS_DIR, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_notebooks_first_cells_are_the_imports_checked_here():
    assert any("walkthrough" in cell and "widgets" in cell for cell in first_cells())
    assert any("har_view" in cell for cell in first_cells())


@pytest.mark.parametrize("cell", first_cells(), ids=lambda cell: cell.splitlines()[-1])
def test_a_notebooks_first_cell_loads_no_jwt_library_nor_widgets(cell):
    assert loaded_after(cell, headless_env("http://127.0.0.1:9")) == []


def test_a_headless_lesson_on_the_emulator_reads_tokens_and_skips_widgets_without_loading_them(emulator):
    assert loaded_after(HEADLESS_LESSON, headless_env(emulator.url)) == []


def test_a_headless_lesson_on_a_tenant_reads_tokens_and_skips_widgets_without_loading_them():
    with Emulator(rehearse_tenant=True) as rehearsal:
        env = {**headless_env("http://127.0.0.1:9"), **rehearsal.tenant_environment()}
        assert loaded_after(HEADLESS_LESSON, env) == []
