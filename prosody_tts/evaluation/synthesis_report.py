"""Write a synthesis evaluation to a folder: records, summary, a markdown report and figures.

::

    SynthesisEvaluation + tracks ─► OUT/records.jsonl        one JSON object per utterance (NaN → null)
                                    OUT/summary.json         means, intervals, problems, options
                                    OUT/report.md            the table, the problems, the figures
                                    OUT/f0_contours.png      reference F0 and warped synthesised F0
                                    OUT/mel_comparison.png   reference and synthesised log-mels, side by side
                                    OUT/metric_distributions.png  per-utterance histograms
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .synthesis import SUMMARY_METRICS, SynthesisEvaluation, metric_label

__all__ = ["RECORDS_FILE", "SUMMARY_FILE", "write_synthesis_report"]

RECORDS_FILE, SUMMARY_FILE, SYNTHESIS_REPORT_FILE = "records.jsonl", "summary.json", "report.md"
F0_PNG, MEL_PNG, DISTRIBUTIONS_PNG = "f0_contours.png", "mel_comparison.png", "metric_distributions.png"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _log_mel(waveform: np.ndarray, rate: int, settings: Any) -> np.ndarray:
    from .analysis import analysis_waveform, log_mel

    return log_mel(analysis_waveform(waveform, rate, settings), settings)


def write_synthesis_report(
    evaluation: SynthesisEvaluation,
    out_dir: str | Path,
    tracks: dict[str, dict[str, Any]] | None = None,
    *,
    title: str = "Synthesis evaluation",
    figures: bool = True,
) -> list[str]:
    """Write the files of the module doc (figures need matplotlib); returns the names written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / RECORDS_FILE, "w", encoding="utf-8") as handle:
        for record in evaluation.records:
            handle.write(json.dumps(_clean(record), ensure_ascii=False) + "\n")
    (out / SUMMARY_FILE).write_text(json.dumps(_clean(evaluation.to_dict()), indent=2, ensure_ascii=False), encoding="utf-8")
    written = [RECORDS_FILE, SUMMARY_FILE]
    drawn = _figures(evaluation, out, tracks or {}) if figures and evaluation.records else []
    lines = [
        f"# {title}",
        "",
        f"{len(evaluation.records)} utterances evaluated, {len(evaluation.problems)} problems. "
        "DNSMOS is a MOS *proxy*; PER (if any) is a phoneme-recogniser proxy, not WER.",
        "",
        evaluation.to_markdown(),
        "",
    ]
    if evaluation.problems:
        lines += ["## Problems", "", *[f"- `{p.id}`: {p.reason}" for p in evaluation.problems], ""]
    lines += [f"![{name}]({name})\n" for name in drawn]
    (out / SYNTHESIS_REPORT_FILE).write_text("\n".join(lines), encoding="utf-8")
    return [*written, SYNTHESIS_REPORT_FILE, *drawn]


def _figures(evaluation: SynthesisEvaluation, out: Path, tracks: dict[str, dict[str, Any]]) -> list[str]:
    from .plots import plot_f0_contours, plot_metric_distributions, plot_spectrograms

    settings = evaluation.options.settings
    drawn = []
    if tracks:
        plot_f0_contours(tracks, out / F0_PNG, frame_seconds=settings.frame_seconds)
        key, first = next(iter(tracks.items()))
        plot_spectrograms(
            {f"{key}: reference": _log_mel(*first["reference"], settings),
             f"{key}: synthesized": _log_mel(*first["synthesized"], settings)},
            out / MEL_PNG, title="log-mel (analysis settings)", hop_seconds=settings.frame_seconds,
        )  # fmt: skip
        drawn += [F0_PNG, MEL_PNG]
    metrics = {name: metric_label(name) for name in (*SUMMARY_METRICS, "wer", "cer")}
    try:
        plot_metric_distributions(evaluation.records, metrics, out / DISTRIBUTIONS_PNG)
        drawn.append(DISTRIBUTIONS_PNG)
    except ValueError:  # no metric has a value: nothing to draw
        pass
    return drawn
