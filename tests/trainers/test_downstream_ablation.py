"""The downstream-ablation recipe's table and verdicts, on synthetic run summaries (the runs themselves are
long; `python recipes/downstream_ablation.py` with tiny sizes is the smoke run, see docs/evaluation.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "downstream_ablation.py"


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("downstream_ablation", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _summary(mcd, sim, mos, per):
    values = {"mcd_db": mcd, "sim_o": sim, "p808_mos_proxy": mos, "per": per, "per_ground_truth": 0.1}
    return {"summary": {key: {"mean": value} for key, value in values.items()}}


def _retrieval(r1_sim):
    return {"retrieval": {"r1_diff": 0.8, "r1_sim": r1_sim}}


def test_aggregate_is_mean_and_sd_over_seeds(ablation):
    aggregate = ablation._aggregate({"a": [_summary(5.0, 0.8, 3.0, 0.2), _summary(7.0, 0.6, 3.0, 0.4)]})
    assert aggregate["a"]["mcd_db"] == pytest.approx((6.0, 1.0, 2))
    assert aggregate["a"]["f0_rmse_cents"][2] == 0  # absent from every run: n/a, not zero


def test_findings_reproduced_and_not(ablation):
    good = {"stage1+2": [_summary(5.0, 0.9, 3.5, 0.1)] * 3, "stage1+2+3": [_summary(8.0, 0.5, 2.0, 0.5)] * 3,
            "grad_tts": [_summary(9.0, 0.4, 1.9, 0.6)] * 3}  # fmt: skip
    retrieval = {"stage1+2": _retrieval(0.10), "stage1+2+3": _retrieval(0.30)}
    findings = ablation._findings(ablation._aggregate(good), retrieval)
    assert "(1) 1+2 is best downstream: reproduced" in findings[1]
    assert findings[2].endswith(": reproduced.")
    flipped = ablation._findings(ablation._aggregate({**good, "stage1+2": good["stage1+2+3"], "stage1+2+3": good["stage1+2"]}), retrieval)
    assert "not reproduced" in flipped[1] and flipped[2].endswith("not reproduced.")
    noisy = {k: [_summary(*(v * (1 + 0.3 * (i - 1)) for v in (5.0, 0.9, 3.5, 0.1)))
                 for i in range(3)] for k in ("stage1+2", "stage1+2+3")}  # fmt: skip
    noisy["stage1+2+3"] = [_summary(5.2, 0.88, 3.4, 0.11)] * 3
    assert "unclear" in ablation._findings(ablation._aggregate(noisy), retrieval)[1]
    table = ablation._table(ablation._aggregate(good), {"stage1+2": {"retrieval": {"r1_diff": 0.5, "r1_sim": None}}})
    assert "| stage1+2 |" in table and "| 0.500 | — |" in table
