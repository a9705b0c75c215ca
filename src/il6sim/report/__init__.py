"""The one-command study report: ``il6sim study`` → one self-contained HTML page.

>>> from il6sim.report import StudySettings, run_study
>>> result = run_study("out/study", StudySettings.default(quick=True))   # doctest: +SKIP
>>> result.report                     # out/study/report.html
>>> [s.status for s in result.sections]

Seven independent sections (:data:`il6sim.report.sections.SECTIONS`): IL-6 biology and
endotoxin, bacterial vs viral courses, mild vs severe COVID-19, tocilizumab/sarilumab PK and
PD, the timing × selection map, the RECOVERY-like trial and the real-cohort prognosis. Every
figure is drawn by the package that owns it (:mod:`il6sim.plotting`, :mod:`il6sim.studies`,
:mod:`il6sim.cohort`) and captioned with numbers computed in the run and the CLAIMS ids it
demonstrates. Finished sections are saved and reused (:mod:`._cache`); a failing section is
reported in place and the others still run.
"""

from ._blocks import SectionResult, SectionUnavailable
from ._claims import CLAIMS
from ._settings import StudySettings
from ._study import StudyResult, check_out_dir, run_study, select_sections

__all__ = [
    "CLAIMS",
    "SectionResult",
    "SectionUnavailable",
    "StudyResult",
    "StudySettings",
    "check_out_dir",
    "run_study",
    "select_sections",
]
