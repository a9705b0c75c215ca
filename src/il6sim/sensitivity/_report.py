"""Tables and figure of a sensitivity study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._study import OUTPUTS

SHOWN = 10


def _index_columns(method: str) -> list[str]:
    return ["mu_star", "mu_star_conf", "sigma"] if method == "morris" else \
        ["S1", "S1_conf", "ST", "ST_conf"]


def markdown_tables(indices: pd.DataFrame, method: str) -> str:
    """One Markdown table per output: its top parameters with indices, range and basis."""
    columns = _index_columns(method)
    lines = []
    for output, part in indices.groupby("output", sort=False):
        lines += [f"### {output}: {OUTPUTS[output]}", "",
                  "| parameter | " + " | ".join(columns) + " | range | basis |",
                  "|---|" + "---|" * (len(columns) + 2)]
        for row in part.head(SHOWN).itertuples():
            values = " | ".join(f"{getattr(row, c):.3g}" for c in columns)
            lines.append(f"| `{row.parameter}` | {values} | {row.low:.3g}–{row.high:.3g} | "
                         f"{row.basis} |")
        lines.append("")
    return "\n".join(lines)


def figure(indices: pd.DataFrame, method: str, path: Path, *, title: str) -> Path:
    """Horizontal bars of the top parameters per output (μ* for Morris, ST and S1 for Sobol)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(indices.output))
    columns = 3
    rows = -(-len(outputs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.6 * rows), squeeze=False)
    for ax, output in zip(axes.flat, outputs, strict=False):
        part = indices[indices.output == output].head(SHOWN).iloc[::-1]
        if method == "morris":
            ax.barh(part.parameter, part.mu_star, xerr=part.mu_star_conf, color="#4c72b0")
            ax.set_xlabel("μ* (mean |elementary effect|)")
        else:
            ax.barh(part.parameter, part.ST, color="#c44e52", label="total (ST)")
            ax.barh(part.parameter, part.S1, color="#4c72b0", label="first order (S1)")
            ax.set_xlabel("Sobol index")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(OUTPUTS[output], fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(outputs):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
