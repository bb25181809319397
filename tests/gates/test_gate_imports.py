"""What reading the gates config costs a process: no plotting or report libraries until a report is drawn."""
from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str, *modules: str) -> list[bool]:
    probe = f"import sys\n{code}\nprint(*[m in sys.modules for m in {list(modules)!r}])"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    return [word == "True" for word in out.split()]


def test_a_scenario_run_reading_the_paper_targets_does_not_import_matplotlib():
    code = "from harness.metrics.report import PaperTargets\nPaperTargets.from_gates_config()"
    assert _loaded_after(code, "matplotlib", "harness.report.html") == [False, False]


def test_the_gate_engine_package_loads_the_report_only_when_run_gates_is_used():
    assert _loaded_after("import harness.gates", "matplotlib") == [False]
    assert _loaded_after("from harness.gates import run_gates, verify, Verification", "harness.gates.run") == [True]


def test_drawing_a_figure_loads_matplotlib_on_demand():
    code = ("from harness.report.charts import latency_histogram, to_svg\n"
            "assert to_svg(latency_histogram([1.0, 2.0], title='t', x_label='x', bound_ms=2.0, bound_label='b'))"
            ".startswith('<svg')")
    assert _loaded_after(code, "matplotlib") == [True]


def test_an_unknown_name_is_still_an_attribute_error():
    import harness.gates
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        harness.gates.nope  # noqa: B018
