"""The report as one self-contained HTML page: inline CSS, figures as base64 PNG, no links out.

Plain string templates with every text escaped (:func:`html.escape`); tables arrive already
rendered and escaped (:func:`il6sim.report._blocks.table_html`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ._blocks import Block, SectionResult
from ._claims import CLAIMS

__all__ = ["render_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:76em;
margin:1.5em auto;padding:0 1.2em;line-height:1.45;color:#1d1d1f}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2.2em;border-bottom:2px solid #ddd;
padding-bottom:.2em}h3{font-size:1.05em;margin:1.4em 0 .4em}
.lead{color:#444;margin-top:0}.meta{font-size:.85em;color:#555}
nav ol{columns:2;font-size:.95em}
figure{margin:1.2em 0 1.8em;padding:.6em;border:1px solid #e3e3e3;border-radius:6px}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:.9em;color:#333;margin-top:.5em}
.claims{display:block;margin-top:.3em;color:#0b5394}
table.data{border-collapse:collapse;font-size:.82em;margin:.4em 0 1.2em}
table.data th,table.data td{border:1px solid #d6d6d6;padding:2px 7px;vertical-align:top}
table.data th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status-ok{color:#1a7f37}.status-failed{color:#b3261e;font-weight:bold}
.status-unavailable{color:#9a6700;font-weight:bold}
.box{padding:.7em 1em;border-radius:6px;margin:1em 0}
.error{background:#fdecea;border:1px solid #f5c2c0}.unavailable{background:#fff8e1;
border:1px solid #f0d58c}pre{white-space:pre-wrap;font-size:.78em}
.tablewrap{overflow-x:auto}ul.key li{margin:.25em 0}summary{cursor:pointer}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def claim_text(block: Block) -> str:
    """The caption's claim line: the claims whose check this run passed ("Demonstrates C13
    (...)"), then what was seen for each claim it did not ("mortality risk ratio 1.00
    (0.65–1.54): this run does not show C13 (...)")."""
    checks = block.checks or [{"claim": c, "shown": True, "seen": ""} for c in block.claims]
    shown = [c for c in checks if c["shown"]]
    missed = [c for c in checks if not c["shown"]]
    parts = []
    if shown:
        parts.append("Demonstrates " + "; ".join(
            f"{c['claim']} ({CLAIMS[c['claim']]})" + (f" — {c['seen']}" if c["seen"] else "")
            for c in shown) + ".")
    parts += [f"{c['seen']}: this run does not show {c['claim']} ({CLAIMS[c['claim']]})."
              for c in missed]
    return " ".join(parts)


def _block(block: Block, label: str, anchor: str) -> str:
    if block.kind == "figure":
        return (f'<figure id="{anchor}"><img alt="{_e(block.title)}" '
                f'src="data:image/png;base64,{block.png}">'
                f"<figcaption><b>{_e(label)}. {_e(block.title)}.</b> {_e(block.caption)}"
                f'<span class="claims">{_e(claim_text(block))}</span>'
                "</figcaption></figure>")
    if block.kind == "table":
        caption = f"<p class='meta'>{_e(block.caption)}</p>" if block.caption else ""
        return (f'<h3 id="{anchor}">{_e(label)}. {_e(block.title)}</h3>{caption}'
                f'<div class="tablewrap">{block.html}</div>')
    return block.html


def _status(section: SectionResult) -> str:
    word = {"ok": "done", "failed": "failed", "unavailable": "not available"}[section.status]
    if section.cached:
        word += " (reused)"
    return f'<span class="status-{section.status}">{_e(word)}</span>'


def _section(number: int, section: SectionResult, intro: str,
             index: dict[str, list[tuple[str, str]]]) -> str:
    parts = [f'<section id="{section.key}"><h2>{number}. {_e(section.title)}</h2>',
             f"<p>{_e(intro)}</p>"]
    figures = tables = 0
    for block in section.blocks:
        if block.kind == "figure":
            figures += 1
            label, anchor = f"Figure {number}.{figures}", f"fig-{number}-{figures}"
            for claim in block.claims:
                index.setdefault(claim, []).append((label, anchor))
            for check in block.checks:
                if not check["shown"]:
                    index.setdefault(f"not {check['claim']}", []).append((label, anchor))
        elif block.kind == "table":
            tables += 1
            label, anchor = f"Table {number}.{tables}", f"tab-{number}-{tables}"
        else:
            label = anchor = ""
        parts.append(_block(block, label, anchor))
    if section.status == "failed":
        parts.append(f'<div class="box error"><b>This section failed:</b> {_e(section.error)}'
                     f"<details><summary>traceback</summary><pre>{_e(section.traceback)}</pre>"
                     "</details><p>The other sections ran; run the study again to retry this "
                     "one (finished sections are reused).</p></div>")
    elif section.status == "unavailable":
        parts.append(f'<div class="box unavailable"><b>Not available:</b> '
                     f"{_e(section.error)}</div>")
    if section.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in section.warnings)
        parts.append(f"<details class='meta'><summary>{len(section.warnings)} warning(s) raised "
                     f"while computing this section</summary><ul>{items}</ul></details>")
    parts.append(f"<p class='meta'>Section time: {section.seconds:.1f} s"
                 f"{' (computed in an earlier run)' if section.cached else ''}.</p></section>")
    return "\n".join(parts)


def _reused(sections: Sequence[tuple[SectionResult, str]]) -> str:
    reused = [s for s, _ in sections if s.cached]
    if not reused:
        return ""
    return (f" ({len(reused)} section(s) reused from an earlier run of the same settings, "
            f"computed in {sum(s.seconds for s in reused):.0f} s)")


def _key_results(sections: Sequence[tuple[SectionResult, str]]) -> str:
    items = []
    for number, (section, _) in enumerate(sections, start=1):
        if section.status == "ok" and section.summary:
            text = _e(section.summary)
        elif section.status == "ok":
            continue
        else:
            text = f"{_status(section)}: {_e(section.error.split(';')[0])}"
        items.append(f'<li><a href="#{section.key}">{number}. {_e(section.title)}</a> — '
                     f"{text}</li>")
    return f"<h2>Key results</h2><ul class='key'>{''.join(items)}</ul>" if items else ""


def _claims_index(index: dict[str, list[tuple[str, str]]]) -> str:
    rows = []
    for claim, text in CLAIMS.items():
        shown, missed = index.get(claim, []), index.get(f"not {claim}", [])
        where = ", ".join(f'<a href="#{a}">{_e(label)}</a>' for label, a in shown) or (
            "not shown in this report (see the README's claims table)")
        if missed:
            where += "; not shown by this run in " + ", ".join(
                f'<a href="#{a}">{_e(label)}</a>' for label, a in missed)
        rows.append(f"<tr><td>{claim}</td><td>{_e(text)}</td><td>{where}</td></tr>")
    return ('<section id="claims"><h2>Claims shown in this report</h2>'
            "<p class='meta'>A figure names a claim only when this run's numbers pass the "
            "claim's check (the check of its test); otherwise its caption says what was seen."
            "</p><table class=\"data\"><thead><tr><th>claim</th><th>statement</th>"
            f"<th>figures</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def render_report(sections: Sequence[tuple[SectionResult, str]], meta: dict[str, Any]) -> str:
    """The whole page: header with run details, contents, each section, the claims index.

    ``sections`` pairs each result with its introduction; ``meta`` holds ``version``,
    ``generated``, ``seconds``, ``settings`` (mapping) and ``command``.
    """
    index: dict[str, list[tuple[str, str]]] = {}
    body = [_section(i, s, intro, index) for i, (s, intro) in enumerate(sections, start=1)]
    toc = "".join(f'<li><a href="#{s.key}">{_e(s.title)}</a> — {_status(s)}</li>'
                  for s, _ in sections)
    settings = ", ".join(f"{k} = {v}" for k, v in meta["settings"].items())
    failed = [s.title for s, _ in sections if s.status == "failed"]
    warning = (f'<div class="box error">{len(failed)} section(s) failed: '
               f"{_e('; '.join(failed))}. Their errors are shown in place.</div>"
               if failed else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>il6sim study report</title><style>{_CSS}</style></head><body>
<h1>il6sim study: the IL-6 system in infection, and IL-6 blockade</h1>
<p class="lead">Every number and figure below was computed by this run of
<code>{_e(meta["command"])}</code> from the model and the shipped data; each figure says which
statement of the founding article (claims C01–C19) this run's numbers show, and says what was
seen where they do not.</p>
<p class="meta">il6sim {_e(meta["version"])} · generated {_e(meta["generated"])} ·
{meta["seconds"]:.0f} s in this run{_reused(sections)} · settings: {_e(settings)}</p>
{warning}
{_key_results(sections)}
<nav><h2>Contents</h2><ol>{toc}<li><a href="#claims">Claims shown in this report</a></li>
</ol></nav>
{chr(10).join(body)}
{_claims_index(index)}
<p class="meta">Made by il6sim (MIT licence). Model, data sources and methods: the README and
docs/ of the il6sim repository.</p>
</body></html>
"""
