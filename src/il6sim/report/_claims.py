"""The founding article's statements (CLAIMS C01–C19), as short titles for figure captions.

The full statements and what a simulation must show are in the project's CLAIMS list; the README
lists how each is shown. Captions name the claims a figure demonstrates by these ids.
"""

from __future__ import annotations

import re

__all__ = ["CLAIMS", "check_claims"]

CLAIMS: dict[str, str] = {
    "C01": "IL-6 is made by macrophages, T cells, B cells, endothelial cells and fibroblasts",
    "C02": "IL-6 is pro- or anti-inflammatory depending on context and cells",
    "C03": "IL-6 drives the acute-phase response in the liver",
    "C04": "IL-6 activates T cells",
    "C05": "IL-6 drives B cells to antibody-producing plasma cells",
    "C06": "IL-6 shapes regulatory T cells",
    "C07": "IL-6 restrains other pro-inflammatory cytokines",
    "C08": "in bacterial infection IL-6 rises, recruits immune cells and helps clear bacteria",
    "C09": "excessive IL-6 leads to systemic inflammation and sepsis",
    "C10": "IL-6 is a severity biomarker and prognostic",
    "C11": "viral infections (influenza, HIV, coronaviruses) raise IL-6",
    "C12": "in COVID-19 high IL-6 marks severity; the cytokine storm leads to ARDS and "
           "multi-organ failure",
    "C13": "targeting IL-6 can mitigate severe inflammation in COVID-19",
    "C14": "tocilizumab and sarilumab block the IL-6 receptor; used in rheumatoid arthritis",
    "C15": "blocking IL-6 can suppress needed immune responses",
    "C16": "patient selection and timing are crucial",
    "C17": "IL-6 acts within a cytokine network",
    "C18": "biomarkers can predict patient outcomes",
    "C19": "clinical trials test efficacy and safety of IL-6 inhibitors",
}

_ID = re.compile(r"C\d\d")


def check_claims(claims: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The claim ids, checked: at least one, each a known ``Cnn`` (a programming error if not)."""
    claims = tuple(claims)
    if not claims:
        raise ValueError("a study figure must name the claim(s) it demonstrates")
    unknown = [c for c in claims if not _ID.fullmatch(c) or c not in CLAIMS]
    if unknown:
        raise ValueError(f"unknown claim id(s) {unknown}; known: C01–C19")
    return claims
