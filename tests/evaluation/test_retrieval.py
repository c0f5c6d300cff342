"""Held-out retrieval: protocol checks against a naive reference, candidate sets, the tiny model, the CLI."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from prosody_tts.data.occurrences import PhonemeOccurrence
from prosody_tts.evaluation.retrieval import (
    OccurrenceEmbeddings,
    RetrievalResult,
    chance_levels,
    compute_occurrence_embeddings,
    evaluate_retrieval,
    sample_candidates,
)


def _layout(num_identities: int, num_utterances: int, per_utterance: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Identities drawn at random for ``per_utterance`` occurrences in each of ``num_utterances`` utterances."""
    rng = np.random.default_rng(seed)
    identities = [f"p{int(i)}" for i in rng.integers(0, num_identities, num_utterances * per_utterance)]
    utterances = [f"u{n // per_utterance}" for n in range(num_utterances * per_utterance)]
    return identities, utterances


def _embeddings(identities, utterances, text, audio) -> OccurrenceEmbeddings:
    return OccurrenceEmbeddings(text.float(), audio.float(), list(identities), list(utterances))


def _unit(m: int, d: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(m, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


def _naive_metrics(text, audio, anchors, candidates) -> dict[str, float]:
    """Python loop per anchor and candidate: rank uniform over the tie positions, averaged."""
    r1 = r5 = rr = 0.0
    for anchor, row in zip(anchors.tolist(), candidates.tolist(), strict=True):
        assert row[0] == anchor
        true = float(text[anchor] @ audio[row[0]])
        scores = [float(text[anchor] @ audio[c]) for c in row[1:]]
        greater = sum(s > true for s in scores)
        ties = sum(s == true for s in scores)
        ranks = list(range(greater + 1, greater + ties + 2))  # equally likely positions of the true segment
        r1 += sum(r == 1 for r in ranks) / len(ranks)
        r5 += sum(r <= 5 for r in ranks) / len(ranks)
        rr += sum(1.0 / r for r in ranks) / len(ranks)
    n = len(anchors)
    return {"r1": r1 / n, "r5": r5 / n, "mrr": rr / n} if n else {}


def _naive_skipped(identities, utterances, anchors, n: int) -> int:
    pairs = Counter(zip(identities, utterances, strict=True))
    totals = Counter(identities)
    return sum(totals[identities[a]] - pairs[identities[a], utterances[a]] < n - 1 for a in anchors)


# ---------------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("quantised", [False, True], ids=["continuous", "with-ties"])
def test_matches_naive_reference(quantised):
    identities, utterances = _layout(num_identities=6, num_utterances=30, per_utterance=20, seed=1)
    m = len(identities)
    text = _unit(m, 8, seed=2)
    audio = F.normalize(text + 0.8 * _unit(m, 8, seed=3), dim=-1)
    if quantised:  # one-hot clusters: exact ties between many candidates
        text = F.one_hot(torch.arange(m) % 5, 5).float()
        audio = F.one_hot(torch.arange(m) % 7 % 5, 5).float()
    embeddings = _embeddings(identities, utterances, text, audio)
    result = evaluate_retrieval(None, None, num_candidates=10, seed=4, embeddings=embeddings)
    candidates = sample_candidates(identities, utterances, num_candidates=10, seed=4)
    diff = _naive_metrics(text, audio, candidates.anchors, candidates.diff)
    sim = _naive_metrics(text, audio, candidates.sim_anchors, candidates.sim)
    assert result.num_anchors_sim == len(candidates.sim_anchors) > 0
    for name, value in (("r1", result.r1_diff), ("r5", result.r5_diff), ("mrr", result.mrr_diff)):
        assert value == pytest.approx(diff[name], abs=1e-9), name
    for name, value in (("r1", result.r1_sim), ("r5", result.r5_sim), ("mrr", result.mrr_sim)):
        assert value == pytest.approx(sim[name], abs=1e-9), name


def test_identical_embeddings_rank_first():
    identities, utterances = _layout(num_identities=4, num_utterances=20, per_utterance=10)
    text = _unit(len(identities), 16, seed=0)
    result = evaluate_retrieval(None, None, num_candidates=8, embeddings=_embeddings(identities, utterances, text, text))
    assert result.r1_diff == result.r1_sim == result.r5_diff == result.mrr_diff == result.mrr_sim == 1.0
    assert result.num_anchors_sim > 0


def test_random_embeddings_near_chance():
    identities, utterances = _layout(num_identities=20, num_utterances=200, per_utterance=20, seed=5)
    m, n = len(identities), 32
    result = evaluate_retrieval(
        None, None, num_candidates=n, embeddings=_embeddings(identities, utterances, _unit(m, 16, 6), _unit(m, 16, 7))
    )
    chance = chance_levels(n)
    for value, anchors, p in (
        (result.r1_diff, result.num_anchors_diff, chance["r1"]),
        (result.r1_sim, result.num_anchors_sim, chance["r1"]),
        (result.r5_diff, result.num_anchors_diff, chance["r5"]),
        (result.r5_sim, result.num_anchors_sim, chance["r5"]),
    ):
        assert abs(value - p) < 5 * math.sqrt(p * (1 - p) / anchors)  # 5 sigma of a binomial share
    for value in (result.mrr_diff, result.mrr_sim):
        assert abs(value - chance["mrr"]) < 0.02


def test_collapsed_embeddings_score_exactly_chance():
    identities, utterances = _layout(num_identities=4, num_utterances=20, per_utterance=10)
    same = torch.ones(len(identities), 4) / 2
    result = evaluate_retrieval(None, None, num_candidates=8, embeddings=_embeddings(identities, utterances, same, same))
    assert result.r1_diff == pytest.approx(result.chance_r1)
    assert result.r5_sim == pytest.approx(result.chance_r5)
    assert result.mrr_diff == pytest.approx(result.chance_mrr)


def test_chance_levels():
    assert chance_levels(32) == pytest.approx({"r1": 1 / 32, "r5": 5 / 32, "mrr": sum(1 / k for k in range(1, 33)) / 32})
    assert chance_levels(3) == pytest.approx({"r1": 1 / 3, "r5": 1.0, "mrr": (1 + 1 / 2 + 1 / 3) / 3})


@pytest.mark.parametrize(
    ("num_identities", "num_utterances", "per_utterance"),
    [(20, 60, 30), (3, 8, 6)],
    ids=["large-pools", "small-pools"],  # rejection sampling / random-key sampling
)
def test_candidate_sets(num_identities, num_utterances, per_utterance):
    identities, utterances = _layout(num_identities, num_utterances, per_utterance, seed=8)
    n = 8
    candidates = sample_candidates(identities, utterances, num_candidates=n, seed=3)
    ident, utt = np.asarray(identities), np.asarray(utterances)
    assert candidates.diff.shape == (len(identities), n)
    assert (candidates.diff[:, 0] == candidates.anchors).all()
    for anchor, row in zip(candidates.anchors, candidates.diff, strict=True):
        assert len(set(row.tolist())) == n  # distinct, so the true segment is never a distractor
        assert (ident[row[1:]] != ident[anchor]).all()
    assert candidates.sim.shape == (len(candidates.sim_anchors), n) and len(candidates.sim_anchors) > 0
    assert (candidates.sim[:, 0] == candidates.sim_anchors).all()
    for anchor, row in zip(candidates.sim_anchors, candidates.sim, strict=True):
        assert len(set(row.tolist())) == n
        assert (ident[row[1:]] == ident[anchor]).all()
        assert (utt[row[1:]] != utt[anchor]).all()
    assert candidates.skipped_sim == _naive_skipped(identities, utterances, candidates.anchors, n)
    assert candidates.skipped_sim + len(candidates.sim_anchors) == len(candidates.anchors)


def test_sim_pool_of_exactly_n_minus_one_is_used_whole():
    identities = ["a"] * 4 + ["b"] * 4
    utterances = ["u0", "u1", "u2", "u3"] * 2
    candidates = sample_candidates(identities, utterances, num_candidates=4, seed=0)
    assert candidates.skipped_sim == 0
    for anchor, row in zip(candidates.sim_anchors, candidates.sim, strict=True):
        same = {i for i in range(8) if identities[i] == identities[anchor]}
        assert set(row.tolist()) == same


def test_skipped_sim_counting():
    # "a": 3 in u0 + 3 in u1 → 3 in other utterances; "b": 2 in u0 + 1 in u1 → at most 2; "c": 4 utterances x 1
    identities = ["a"] * 6 + ["b"] * 3 + ["c"] * 4
    utterances = ["u0"] * 3 + ["u1"] * 3 + ["u0", "u0", "u1"] + ["u0", "u1", "u2", "u3"]
    text = _unit(len(identities), 4, 0)
    embeddings = _embeddings(identities, utterances, text, text)
    result = evaluate_retrieval(None, None, num_candidates=4, embeddings=embeddings)
    assert (result.num_anchors_diff, result.num_anchors_sim, result.skipped_sim) == (13, 10, 3)
    assert result.per_phoneme["b"]["anchors_sim"] == 0 and result.per_phoneme["b"]["r1_sim"] is None
    result = evaluate_retrieval(None, None, num_candidates=5, embeddings=embeddings)
    assert (result.num_anchors_sim, result.skipped_sim) == (0, 13)
    assert result.r1_sim is result.r5_sim is result.mrr_sim is None
    assert result.num_candidates == 5 and result.chance_r1 == pytest.approx(1 / 5)  # N never shrinks


def test_determinism_and_seed():
    identities, utterances = _layout(num_identities=10, num_utterances=40, per_utterance=15, seed=2)
    m = len(identities)
    embeddings = _embeddings(identities, utterances, _unit(m, 8, 0), F.normalize(_unit(m, 8, 0) + _unit(m, 8, 1), dim=-1))
    first = evaluate_retrieval(None, None, num_candidates=16, seed=7, max_anchors=200, embeddings=embeddings)
    again = evaluate_retrieval(None, None, num_candidates=16, seed=7, max_anchors=200, embeddings=embeddings)
    assert first.to_dict() == again.to_dict()
    a = sample_candidates(identities, utterances, num_candidates=16, seed=7, max_anchors=200)
    b = sample_candidates(identities, utterances, num_candidates=16, seed=7, max_anchors=200)
    c = sample_candidates(identities, utterances, num_candidates=16, seed=8, max_anchors=200)
    for field in ("anchors", "diff", "sim_anchors", "sim"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.anchors, c.anchors)
    full_a = sample_candidates(identities, utterances, num_candidates=16, seed=7)
    full_c = sample_candidates(identities, utterances, num_candidates=16, seed=8)
    assert np.array_equal(full_a.anchors, full_c.anchors)  # all anchors: only the distractors change
    assert not np.array_equal(full_a.diff, full_c.diff) and not np.array_equal(full_a.sim, full_c.sim)
    assert len(a.anchors) == 200 and len(set(a.anchors.tolist())) == 200 and first.num_anchors_diff == 200


def test_per_phoneme_consistent_with_totals():
    identities, utterances = _layout(num_identities=8, num_utterances=30, per_utterance=12, seed=4)
    m = len(identities)
    embeddings = _embeddings(identities, utterances, _unit(m, 8, 2), F.normalize(_unit(m, 8, 2) + _unit(m, 8, 3), dim=-1))
    result = evaluate_retrieval(None, None, num_candidates=12, embeddings=embeddings)
    rows = result.per_phoneme.values()
    assert sorted(result.per_phoneme) == sorted(set(identities))
    assert sum(r["anchors"] for r in rows) == result.num_anchors_diff
    assert sum(r["anchors_sim"] for r in rows) == result.num_anchors_sim
    assert sum(r["r1_diff"] * r["anchors"] for r in rows) / result.num_anchors_diff == pytest.approx(result.r1_diff)
    weighted = sum(r["r1_sim"] * r["anchors_sim"] for r in rows if r["anchors_sim"])
    assert weighted / result.num_anchors_sim == pytest.approx(result.r1_sim)


def test_keep_stress_regroups_identities():
    occurrences = [
        PhonemeOccurrence(f"u{n % 6}", n, symbol, 0, 2, 0, "s")
        for n, symbol in enumerate(["ˈa", "a", "o", "ˈo"] * 6)
    ]
    text = _unit(len(occurrences), 4, 0)
    embeddings = OccurrenceEmbeddings(
        text, text, [o.identity(True) for o in occurrences], [o.utterance_id for o in occurrences], occurrences
    )
    stressed = evaluate_retrieval(None, None, num_candidates=3, embeddings=embeddings)
    merged = evaluate_retrieval(None, None, num_candidates=3, keep_stress=False, embeddings=embeddings)
    assert sorted(stressed.per_phoneme) == ["a", "o", "ˈa", "ˈo"]
    assert sorted(merged.per_phoneme) == ["a", "o"]
    bare = OccurrenceEmbeddings(text, text, embeddings.identities, embeddings.utterance_ids)
    with pytest.raises(ValueError, match="without the occurrences"):
        evaluate_retrieval(None, None, keep_stress=False, embeddings=bare)


def test_bad_input():
    identities, utterances = _layout(num_identities=3, num_utterances=4, per_utterance=5)
    text = _unit(len(identities), 4, 0)
    embeddings = _embeddings(identities, utterances, text, text)
    with pytest.raises(ValueError, match="num_candidates must be >= 2"):
        evaluate_retrieval(None, None, num_candidates=1, embeddings=embeddings)
    with pytest.raises(ValueError, match="max_anchors"):
        evaluate_retrieval(None, None, max_anchors=0, embeddings=embeddings)
    with pytest.raises(ValueError, match="segments of other identities"):
        evaluate_retrieval(None, None, num_candidates=32, embeddings=embeddings)
    with pytest.raises(ValueError, match=r"\(M, D\)"):
        OccurrenceEmbeddings(text, text[:, :2], identities, utterances)
    with pytest.raises(ValueError, match="identities"):
        OccurrenceEmbeddings(text, text, identities[:-1], utterances)
    broken = text.clone()
    broken[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="NaN"):
        evaluate_retrieval(None, None, num_candidates=4, embeddings=_embeddings(identities, utterances, broken, text))
    with pytest.raises(ValueError, match="needs a model and a corpus"):
        evaluate_retrieval(None, None)
    with pytest.raises(TypeError, match="ProsodyContrastiveModel"):
        evaluate_retrieval(object(), object())


def test_result_serialisation():
    identities, utterances = _layout(num_identities=4, num_utterances=10, per_utterance=8)
    text = _unit(len(identities), 4, 0)
    result = evaluate_retrieval(None, None, num_candidates=6, embeddings=_embeddings(identities, utterances, text, text))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["num_candidates"] == 6 and data["per_phoneme"].keys() == result.per_phoneme.keys()
    table = result.to_markdown()
    assert "N = 6" in table and "| R@1 |" in table and "| chance |" in table and f"{1 / 6:.3f}" in table
    assert isinstance(result, RetrievalResult) and "| p0 |" in result.per_phoneme_markdown()


# ---------------------------------------------------------------------------------- tiny model
@pytest.fixture(scope="module")
def tiny_model():
    from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
    from prosody_tts.modeling.contrastive import ProsodyContrastiveModel

    torch.manual_seed(0)
    return ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())


@pytest.fixture(scope="module")
def tiny_model_dir(tiny_model, processor, tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_contrastive")
    tiny_model.save_pretrained(path)
    processor.save_pretrained(path)
    history = [{"loss": 2.0 - 0.1 * s, "batch_r1": 0.1 * s, "step": s, "epoch": s / 10} for s in range(1, 6)]
    (path / "trainer_state.json").write_text(json.dumps({"log_history": history}), encoding="utf-8")
    return path


def test_tiny_model_end_to_end(tiny_model, prepared_tiny):
    from prosody_tts.data.occurrences import occurrence_index

    heldout = prepared_tiny["heldout"]
    index = occurrence_index(heldout)
    tiny_model.train()
    embeddings = compute_occurrence_embeddings(tiny_model, heldout, batch_size=16, show_progress=False)
    assert tiny_model.training  # the training flag is restored
    assert embeddings.text.shape == embeddings.audio.shape == (len(index), tiny_model.config.projection_dim)
    assert embeddings.text.dtype == torch.float32
    assert torch.allclose(embeddings.text.norm(dim=-1), torch.ones(len(index)), atol=1e-5)
    assert embeddings.identities == [occ.identity() for occ in index]
    one_by_one = compute_occurrence_embeddings(tiny_model, heldout, index, batch_size=1, show_progress=False)
    assert torch.allclose(embeddings.text, one_by_one.text, atol=1e-5)  # padding never leaks in
    assert torch.allclose(embeddings.audio, one_by_one.audio, atol=1e-5)

    identities = [occ.identity() for occ in index]
    utterances = [occ.utterance_id for occ in index]
    for n in (4, 8):
        result = evaluate_retrieval(tiny_model, heldout, num_candidates=n, embeddings=embeddings)
        assert result.num_anchors_diff == len(index)
        assert result.skipped_sim == _naive_skipped(identities, utterances, range(len(index)), n)
        assert result.num_anchors_sim + result.skipped_sim == len(index)
        for value in (result.r1_diff, result.r5_diff, result.mrr_diff, result.r1_sim, result.r5_sim, result.mrr_sim):
            assert value is None or (math.isfinite(value) and 0.0 <= value <= 1.0)
    direct = evaluate_retrieval(tiny_model, heldout, num_candidates=4, max_anchors=20, show_progress=False)
    assert direct.num_anchors_diff == 20 and 0.0 <= direct.r1_diff <= 1.0


def test_model_directory_and_speaker_ids(tiny_model_dir, prepared_tiny):
    from prosody_tts.configuration.contrastive import ProsodyContrastiveConfig
    from prosody_tts.modeling.contrastive import ProsodyContrastiveModel

    heldout = prepared_tiny["heldout"]
    from_dir = evaluate_retrieval(tiny_model_dir, heldout, num_candidates=4, show_progress=False)
    assert from_dir.num_anchors_diff > 0
    config = ProsodyContrastiveConfig.tiny(
        text_overrides={"num_speakers": 4, "external_speaker_dim": 0}, speaker_source="ids"
    )
    ids_model = ProsodyContrastiveModel(config)
    with pytest.raises(ValueError, match="speaker_to_id"):
        evaluate_retrieval(ids_model, heldout, num_candidates=4, show_progress=False)
    mapping = {speaker: i for i, speaker in enumerate(prepared_tiny["train"].speakers)}
    result = evaluate_retrieval(ids_model, heldout, num_candidates=4, show_progress=False, speaker_to_id=mapping)
    assert result.num_anchors_diff == from_dir.num_anchors_diff


# ---------------------------------------------------------------------------------- CLI
def _parse(argv: list[str]) -> argparse.Namespace:
    from prosody_tts.cli.evaluate import add_parser

    parser = argparse.ArgumentParser(prog="prosody-tts")
    add_parser(parser.add_subparsers(title="commands"))
    return parser.parse_args(argv)


def _prepared_root(corpus) -> Path:
    return Path(corpus.rows.cache_files[0]["filename"]).parent.parent  # <root>/heldout/prepared.arrow


def test_cli_on_prepared_dir(tiny_model_dir, prepared_tiny, tmp_path, capsys):
    out = tmp_path / "report"
    data = _prepared_root(prepared_tiny["heldout"])
    args = _parse(
        ["evaluate", "retrieval", "--model", str(tiny_model_dir), "--data", str(data), "--num-candidates", "4",
         "--batch-size", "4", "--out", str(out)]
    )
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "N = 4" in printed and "| R@1 |" in printed
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["num_candidates"] == 4 and result["num_anchors_diff"] > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| MRR |" in report and "per_phoneme_recall.png" in report
    for name in ("per_phoneme_recall.png", "similarity_matrix.png", "training_curves.png"):
        assert (out / name).stat().st_size > 1000, name


def test_cli_on_embedded_corpus_json(tiny_model_dir, tiny_corpus_dir, capsys):
    args = _parse(
        ["evaluate", "retrieval", "--model", str(tiny_model_dir), "--data", str(tiny_corpus_dir),
         "--num-candidates", "4", "--max-anchors", "10", "--json"]
    )
    assert args.handler(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_anchors_diff"] == 10 and result["seed"] == 0


def test_cli_bad_input(tiny_model_dir, tmp_path):
    args = _parse(["evaluate", "retrieval", "--model", str(tiny_model_dir), "--data", str(tmp_path)])
    with pytest.raises(SystemExit, match="neither a prepared corpus"):
        args.handler(args)
    args = _parse(["evaluate", "retrieval", "--model", str(tmp_path), "--data", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"config\.json missing"):
        args.handler(args)
    args = _parse(["evaluate", "retrieval", "--model", str(tiny_model_dir), "--data", str(tmp_path), "--num-candidates", "1"])
    with pytest.raises(SystemExit, match="num-candidates"):
        args.handler(args)
