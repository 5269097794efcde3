"""A customer's HAR on the support engineer's screen (notebooks/diagnose.ipynb): the exchanges as a
sequence diagram with the failing ones marked, the token claims as a table, the findings with their
fixes, and the case bundle, from a path or from a file dropped into an upload widget.

Nothing here shows a secret: the diagram names methods, paths, statuses and error codes; the claims
table shows JWT claims (never a token or its signature) through the kit's redaction.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mfa_helpers.display import Table
from mfa_helpers.support import bundle, har
from mfa_helpers.support.diagnose import (Finding, Observed, diagnose, findings_markdown,
                                          guess_canonical_domain, jwt_parts, normalise_domain, observe)
from mfa_helpers.tokens import DecodedToken

if TYPE_CHECKING:
    from IPython.display import Markdown

UPLOADS = Path(".mfa-kit", "cases", "uploads")
MAX_ARROWS = 80                     # a diagram longer than this is cut, saying how much is left out
TOKEN_FIELDS = ("access_token", "id_token", "mfa_token")


@dataclass
class CustomerHar:
    """One HAR, read and diagnosed: `observed` exchanges, `findings`, the tenant `domain` used."""

    path: Path
    domain: str | None
    observed: list[Observed] = field(default_factory=list, repr=False)
    findings: list[Finding] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        failing = sum(1 for f in self.findings if f.severity != "info")
        return (f"CustomerHar({self.path.name!r}: {len(self.observed)} exchanges, "
                f"{failing} finding(s), tenant {self.domain or 'unknown'})")

    def _repr_markdown_(self) -> str:
        listed = "".join(f"\n- **{f.headline}** ({f.severity}, first exchange #{f.exchange})" for f in self.findings)
        return (f"**{self.path.name}**: {len(self.observed)} exchanges, tenant "
                f"`{self.domain or 'unknown (pass domain=...)'}`.{listed or ' Nothing to report.'}")

    def timeline(self) -> "Markdown":
        """The MFA API exchanges as a Mermaid sequence diagram; failing answers end in a cross."""
        from IPython.display import Markdown
        return Markdown(f"```mermaid\n{sequence_diagram(self.observed, self.findings)}\n```")

    def claims(self) -> Table:
        """Every JWT the exchanges carry, claim by claim (times as dates, contacts masked)."""
        return Table(("exchange", "token", "claim", "value"), tuple(token_claims(self.observed)))

    def report(self) -> "Markdown":
        """The findings, each with why, the fix and Auth0's page."""
        from IPython.display import Markdown
        return Markdown(findings_markdown(self.findings, heading=f"Diagnosis of {self.path.name}"))

    def write_bundle(self, out: str | Path | None = None) -> Path:
        """The redacted case bundle of this HAR (mfa_helpers.support.bundle), ready for the ticket."""
        return bundle.write_bundle(out or bundle.default_path(self.path.stem), har=self.path,
                                   canonical_domain=self.domain)

    def summary(self) -> dict[str, Any]:
        """What the diagnosis found, without a value from the HAR: keys, counts, numbers."""
        return {"exchanges": len(self.observed), "domain": self.domain,
                "findings": [{"key": f.key, "severity": f.severity, "count": f.count, "first": f.exchange}
                             for f in self.findings]}


def open_har(source: str | Path, domain: str = "") -> CustomerHar:
    """Read and diagnose a HAR file; `domain` is the tenant's canonical domain (guessed if empty)."""
    path = Path(source)
    data = har.read_har(path)
    observed = observe(data)
    known = normalise_domain(domain) if domain else None
    findings = diagnose(observed, canonical_domain=known)
    return CustomerHar(path, known or guess_canonical_domain(observed), observed, findings)


def save_upload(name: str, content: bytes, folder: Path = UPLOADS) -> Path:
    """An uploaded file, checked to be a HAR, saved under .mfa-kit/cases/uploads (git-ignored)."""
    har.parse_har(content, name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{datetime.now():%Y%m%d-%H%M%S}-{Path(name).name}"
    path.write_bytes(content)
    return path


def upload_widget(domain: str = ""):
    """A file-upload box: drop a HAR, see its findings at once; `widget.case` is then the upload's
    CustomerHar (run the cells below with `case = widget.case` to see the rest)."""
    import ipywidgets
    from IPython.display import Markdown, display

    picker = ipywidgets.FileUpload(accept=".har,.json,.gz", multiple=False, description="HAR file")
    shown = ipywidgets.Output()
    box = ipywidgets.VBox([picker, shown])
    box.case = None

    def on_upload(change: Mapping[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        shown.clear_output()
        with shown:
            try:
                box.case = open_har(save_upload(item["name"], bytes(item["content"])), domain)
            except (har.HarError, ValueError) as exc:
                display(Markdown(f"**Cannot read {item['name']}:** {exc}"))
                return
            display(box.case, box.case.timeline(), box.case.report())

    picker.observe(on_upload, names="value")
    return box


# ---------------------------------------------------------------------------------------------

def _label(text: str) -> str:
    """Mermaid-safe message text (`;` ends a statement, `#` starts an entity)."""
    return text.replace(";", ",").replace("#", "no. ").replace("\n", " ")


def sequence_diagram(observed: list[Observed], findings: list[Finding]) -> str:
    """Mermaid `sequenceDiagram` source of the MFA API exchanges, numbered as devtools lists them;
    an answer a finding names ends in a cross (`--x`), with the finding's title as a note."""
    failing = {n: f for f in findings if f.severity != "info" for n in f.numbers}
    shown = [o for o in observed if o.is_mfa_api or o.number in failing]
    hosts = list(dict.fromkeys(o.host or "?" for o in shown))
    lines = ["sequenceDiagram", "    participant App as Browser / app"]
    lines += [f"    participant H{i} as {_label(host)}" for i, host in enumerate(hosts)]
    for o in shown[:MAX_ARROWS]:
        h = f"H{hosts.index(o.host or '?')}"
        what = o.request + (f" ({o.grant_type.rsplit('/', 1)[-1]})" if o.grant_type else "")
        lines.append(f"    App->>{h}: {o.number}. {_label(what)} at {o.clock}")
        answer = "no answer" if o.failed else f"{o.status} {o.answer.get('error', '')}".strip()
        if o.by_redirect:
            answer += " (redirect)"
        if o.number in failing:
            lines.append(f"    {h}--xApp: {_label(answer)}")
            lines.append(f"    Note over App,{h}: {_label(failing[o.number].title)}")
        else:
            lines.append(f"    {h}-->>App: {_label(answer)}")
    if len(shown) > MAX_ARROWS:
        lines.append(f"    Note over App: {len(shown) - MAX_ARROWS} more exchanges not drawn")
    return "\n".join(lines)


def token_claims(observed: list[Observed]) -> list[tuple[int, str, str, Any]]:
    """(exchange, which token, claim, value) for every JWT sent or received in the MFA API calls."""
    rows: list[tuple[int, str, str, Any]] = []
    for o in observed:
        if not o.is_mfa_api:
            continue
        tokens = [("request bearer", o.request_headers.get("authorization", "").split(" ", 1)[-1])]
        tokens += [(f"request {name}", o.field(name)) for name in TOKEN_FIELDS]
        if isinstance(o.body, Mapping):
            tokens += [(f"response {name}", o.body.get(name)) for name in TOKEN_FIELDS]
        for where, token in tokens:
            parts = jwt_parts(token) if isinstance(token, str) else None
            if parts is None:
                continue
            readable = DecodedToken(*parts).readable()
            rows += [(o.number, where, claim, value) for claim, value in readable["claims"].items()]
    return rows
