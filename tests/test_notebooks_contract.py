"""The notebooks' shape: what papermill, nbval and the runner rely on, checked without running them."""
from __future__ import annotations

import ast
import json
import re
import subprocess

import nbformat
import pytest
from papermill.inspection import _infer_parameters
from papermill.iorw import load_notebook_node

from mfa_helpers.runner import strip
from notebook_runs import GOLDEN_DIR, NOTEBOOKS_DIR, notebook_names

NAMES = notebook_names()
INTERACTIVE_TAGS = {"interactive", "nbval-skip"}
WIDGET_CALL = re.compile(r"\bwidgets\.\w+\(")
SECRET_WORDS = ("secret", "password", "token", "recovery")
# What a cell may be: a call and a display. No control flow: that belongs in mfa_helpers.
CONTROL_FLOW = (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.FunctionDef, ast.ClassDef,
                ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.IfExp, ast.Lambda)


def load(name):
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def tags(cell):
    return set(cell.metadata.get("tags", []))


def test_the_nine_walkthroughs_are_there():
    assert NAMES == ["01_setup", "02_mfa_required", "03_enroll_otp", "04_list_and_remove", "05_challenge",
                     "06_recovery_codes", "07_enroll_oob", "08_customizable_mfa", "09_manage_from_own_ui"]


@pytest.mark.parametrize("name", NAMES)
def test_exactly_one_parameters_cell_with_annotated_string_defaults(name):
    nb = load(name)
    cells = [cell for cell in code_cells(nb) if "parameters" in tags(cell)]
    assert len(cells) == 1
    tree = ast.parse(cells[0].source)
    assert all(isinstance(node, ast.AnnAssign) for node in tree.body), "every parameter is annotated"
    params = {p.name: p for p in _infer_parameters(load_notebook_node(str(NOTEBOOKS_DIR / f"{name}.ipynb")))}
    assert params["headless"].default == '"auto"'
    for param in params.values():
        assert param.help, f"{param.name} has no help comment for papermill --help-notebook"
        assert not any(word in param.name for word in SECRET_WORDS), "secrets come from the environment"
        if any(word in param.name for word in ("otp", "code", "phone")):
            assert param.inferred_type_name == "str", "OTP-like parameters are strings"


@pytest.mark.parametrize("name", sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")))
def test_papermill_reads_every_parameter_of_the_parameters_cell(name):
    """`papermill --help-notebook` and `-p` know a parameter only if its line parses (an `=` in the
    help comment once hid reproduce's `headless`)."""
    nb = load(name)
    (cell,) = [cell for cell in code_cells(nb) if "parameters" in tags(cell)]
    assigned = [node.target.id for node in ast.parse(cell.source).body if isinstance(node, ast.AnnAssign)]
    inferred = [p.name for p in _infer_parameters(load_notebook_node(str(NOTEBOOKS_DIR / f"{name}.ipynb")))]
    assert inferred == assigned


@pytest.mark.parametrize("name", NAMES)
def test_widget_cells_are_tagged_interactive_and_skipped_by_nbval(name):
    for cell in code_cells(load(name)):
        if WIDGET_CALL.search(cell.source):
            assert INTERACTIVE_TAGS <= tags(cell), cell.source
        if "interactive" in tags(cell):
            assert "nbval-skip" in tags(cell)
            assert WIDGET_CALL.search(cell.source), "an interactive cell builds a widget (a no-op headless)"


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_or_execution_counts(name):
    for cell in code_cells(load(name)):
        assert cell.outputs == [] and cell.execution_count is None, cell.source
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata


@pytest.mark.parametrize("name", NAMES)
def test_cells_are_calls_and_displays(name):
    for cell in code_cells(load(name)):
        tree = ast.parse(cell.source)
        assert not [node for node in ast.walk(tree) if isinstance(node, CONTROL_FLOW)], cell.source


@pytest.mark.parametrize("name", NAMES)
def test_opens_with_purpose_diagram_and_auth0_docs(name):
    first = load(name).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "```mermaid\nsequenceDiagram" in first.source
    assert re.search(r"\]\(https://auth0\.com/docs/[^)]+\)", first.source)


@pytest.mark.parametrize("name", NAMES)
def test_connects_under_its_own_name_records_and_cleans_up(name):
    sources = [cell.source for cell in code_cells(load(name))]
    assert any(f'walkthrough.connect("{name}", headless)' in s for s in sources)
    assert any("wt.record(" in s for s in sources)
    assert sources[-1] == "wt.finish()"


@pytest.mark.parametrize("name", [*NAMES, "reproduce"])
def test_committed_exactly_as_the_git_clean_filter_writes_them(name):
    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    assert strip.dumps(strip.strip(json.loads(path.read_text(encoding="utf-8")))) == path.read_text(encoding="utf-8")


def test_a_notebook_saved_after_a_run_leaves_git_status_clean(tmp_path):
    """Jupyter Server's own save path with the hook `mfa-kit lab` sets, in a fresh repository: the
    golden (an executed notebook: outputs, counts, widget state) saved over the committed one is no
    change for git, while a learner's edit is one."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    (tmp_path / ".gitignore").write_text((NOTEBOOKS_DIR.parent / ".gitignore").read_text())  # checkpoints
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_setup.ipynb").write_bytes((NOTEBOOKS_DIR / "01_setup.ipynb").read_bytes())
    git("add", "-A")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "notebooks")
    executed = json.loads((GOLDEN_DIR / "01_setup.ipynb").read_text(encoding="utf-8"))
    executed["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    executed["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    assert any(cell.get("outputs") for cell in executed["cells"])
    contents = FileContentsManager(root_dir=str(tmp_path), pre_save_hook=strip.pre_save)
    contents.save({"type": "notebook", "format": "json", "content": executed}, "notebooks/01_setup.ipynb")
    assert git("status", "--porcelain") == ""
    executed["cells"][0]["source"] = "# edited by the learner"
    contents.save({"type": "notebook", "format": "json", "content": executed}, "notebooks/01_setup.ipynb")
    assert git("status", "--porcelain").strip() == "M notebooks/01_setup.ipynb"  # real edits still show
    assert json.loads((tmp_path / "notebooks" / "01_setup.ipynb").read_text())["cells"][2]["outputs"] == []
