"""The phoneme aligner: model-tester contract, the beta-binomial prior against scipy, the forward-sum
loss against a naive CTC pass, and the hard durations (sum, unaligned tokens, minimum one frame)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from model_tester import ModelTesterMixin
from naive_ctc import naive_ctc

from prosody_tts.configuration import PhonemeAlignerConfig
from prosody_tts.modeling import PhonemeAlignerModel
from prosody_tts.modeling import phoneme_aligner as aligner_module
from prosody_tts.modeling.phoneme_aligner import beta_binomial_log_prior, forward_sum_loss

#: token 5 plays the word boundary (never aligned); 0 is padding
BOUNDARY = 5


def _inputs(seed: int = 0, frames: tuple[int, int] = (37, 23)) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.tensor([[1, 7, 8, BOUNDARY, 9, 10, 11, 2], [1, 12, BOUNDARY, 13, 2, 0, 0, 0]])
    features = torch.randn(2, max(frames), 80, generator=generator)
    mask = torch.zeros(2, max(frames), dtype=torch.long)
    for b, n in enumerate(frames):
        mask[b, :n] = 1
    return {"input_ids": ids, "attention_mask": (ids != 0).long(), "input_features": features, "feature_attention_mask": mask}


def _config(**overrides) -> PhonemeAlignerConfig:
    return PhonemeAlignerConfig.tiny(vocab_size=20, unaligned_token_ids=[BOUNDARY], dropout=0.0, **overrides)


class TestPhonemeAlignerModel(ModelTesterMixin):
    model_class = PhonemeAlignerModel

    def get_config(self) -> PhonemeAlignerConfig:
        return _config()

    def get_inputs(self, config, seed=0):
        return _inputs(seed)

    def padded_inputs(self, config):
        full = _inputs()
        short = {"input_ids": full["input_ids"][1:, :5], "attention_mask": full["attention_mask"][1:, :5],
                 "input_features": full["input_features"][1:, :23], "feature_attention_mask": full["feature_attention_mask"][1:, :23]}  # fmt: skip
        padded = {key: value[1:] for key, value in full.items()}

        def compare(a, b):
            torch.testing.assert_close(b.durations[:, :5], a.durations, rtol=0, atol=0)
            torch.testing.assert_close(b.alignment_scores, a.alignment_scores, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(b.loss, a.loss, rtol=1e-5, atol=1e-6)

        return short, padded, compare


def test_module_examples_run():
    assert doctest.testmod(aligner_module).failed == 0


def test_prior_equals_scipy_beta_binomial():
    from scipy.stats import betabinom

    prior = beta_binomial_log_prior(torch.tensor([6, 3]), torch.tensor([11, 4]), 6, 11, scaling=1.5)
    for b, (n, frames) in enumerate(((6, 11), (3, 4))):
        expected = np.stack([betabinom(n, 1.5 * t, 1.5 * (frames + 1 - t)).logpmf(np.arange(n)) for t in range(1, frames + 1)])
        np.testing.assert_allclose(prior[b, :frames, :n].numpy(), expected, rtol=1e-5, atol=1e-5)
        assert bool(prior[b, frames:].eq(0).all()) and bool(prior[b, :, n:].eq(0).all())  # padding left at 0


def test_forward_sum_loss_is_ctc_over_the_tokens_in_order():
    generator = torch.Generator().manual_seed(1)
    scores = torch.randn(2, 9, 4, generator=generator)
    text, frames = torch.tensor([4, 3]), torch.tensor([9, 6])
    loss = forward_sum_loss(scores, text, frames, blank_logprob=-1.0)
    naive = []
    for b in range(2):
        n, t = int(text[b]), int(frames[b])
        log_probs = torch.cat([torch.full((t, 1), -1.0), scores[b, :t, :n]], dim=1).log_softmax(-1)
        naive.append(naive_ctc(log_probs, list(range(1, n + 1))) / n)
    assert float(loss) == pytest.approx(sum(naive) / 2, rel=1e-5)


def test_durations_cover_every_frame_and_skip_unaligned_tokens():
    model = PhonemeAlignerModel(_config()).eval()
    out = model.align(**_inputs())
    durations = out.durations
    assert durations.sum(-1).tolist() == [37, 23]
    assert bool(durations[0, 3].eq(0)) and bool(durations[1, 2].eq(0))  # the word boundaries
    assert bool(durations[1, 5:].eq(0).all())  # padding
    real = (_inputs()["attention_mask"].bool()) & (_inputs()["input_ids"] != BOUNDARY)
    assert bool(durations[real].ge(1).all())  # every aligned token at least one frame
    assert bool(((out.alignment_scores > 0) & (out.alignment_scores <= 1)).all())


def test_too_few_frames_is_refused_with_the_item():
    inputs = _inputs(frames=(37, 3))  # item 1 has 4 aligned tokens
    with pytest.raises(ValueError, match="item 1 has 3 frames for 4 aligned tokens"):
        PhonemeAlignerModel(_config())(**inputs)


def test_config_validates_its_numbers():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        PhonemeAlignerConfig(vocab_size=10, unaligned_token_ids=[12])
    with pytest.raises(ValueError, match="text_kernel_size"):
        PhonemeAlignerConfig(text_kernel_size=4)
    with pytest.raises(ValueError, match="unknown aligner preset"):
        PhonemeAlignerConfig.preset("huge")
