"""The CTC phoneme recogniser: model-tester contract, CTC loss against a naive forward pass, decoding, labels."""

from __future__ import annotations

import pytest
import torch
from model_tester import ModelTesterMixin
from naive_ctc import naive_ctc as _naive_ctc

from prosody_tts.configuration import PhonemeRecognizerConfig
from prosody_tts.modeling import PhonemeRecognizerModel


def _inputs(seed: int = 0, frames: tuple[int, int] = (41, 29)) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(2, max(frames), 80, generator=generator)
    mask = torch.zeros(2, max(frames), dtype=torch.long)
    for b, n in enumerate(frames):
        mask[b, :n] = 1
    labels = torch.tensor([[3, 7, 7, 12], [5, 9, -100, -100]])
    return {"input_features": features, "feature_attention_mask": mask, "labels": labels}


class TestPhonemeRecognizerModel(ModelTesterMixin):
    model_class = PhonemeRecognizerModel

    def get_config(self) -> PhonemeRecognizerConfig:
        return PhonemeRecognizerConfig.tiny()

    def get_inputs(self, config, seed=0):
        return _inputs(seed)

    def padded_inputs(self, config):
        short = {key: value[1:, :29] for key, value in _inputs().items() if key != "labels"}
        padded = {key: value[1:] for key, value in _inputs().items() if key != "labels"}

        def compare(a, b):
            assert int(b.lengths[0]) == int(a.lengths[0]) == 15
            torch.testing.assert_close(b.logits[:, :15], a.logits, rtol=0, atol=1e-5)

        return short, padded, compare


def test_ctc_loss_matches_a_naive_alpha_recursion():
    model = PhonemeRecognizerModel(PhonemeRecognizerConfig.tiny()).eval()
    inputs = _inputs()
    with torch.no_grad():
        out = model(**inputs, return_dict=True)
    log_probs = out.logits.log_softmax(-1)
    naive = [
        _naive_ctc(log_probs[0, : out.lengths[0]], [3, 7, 7, 12]) / 4,
        _naive_ctc(log_probs[1, : out.lengths[1]], [5, 9]) / 2,
    ]
    assert float(out.loss) == pytest.approx(sum(naive) / 2, rel=1e-4)
    assert out.lengths.tolist() == [21, 15]  # ⌊(len − 1) / 2⌋ + 1 with subsampling 2


def test_greedy_decoding_merges_repeats_and_drops_blanks():
    model = PhonemeRecognizerModel(PhonemeRecognizerConfig.tiny())
    ids = [0, 3, 3, 0, 3, 5, 5, 0]
    logits = torch.full((1, len(ids), model.config.num_symbols), -10.0)
    logits[0, torch.arange(len(ids)), torch.tensor(ids)] = 10.0
    phonemes = model.config.phonemes
    assert model.decode(logits) == [[phonemes[2], phonemes[2], phonemes[4]]]
    assert model.decode(logits, torch.tensor([3])) == [[phonemes[2]]]


def test_labels_skip_boundaries_and_fold_stress_when_asked():
    model = PhonemeRecognizerModel(PhonemeRecognizerConfig.tiny())
    ids = model.symbol_ids(["p", "ˈa", "#", "p", "a", ","])
    assert len(ids) == 4 and ids[1] != ids[3]
    folded = PhonemeRecognizerModel(PhonemeRecognizerConfig.tiny(keep_stress=False))
    ids = folded.symbol_ids(["p", "ˈa", "#", "p", "a"])
    assert ids[1] == ids[3] and "ˈa" not in folded.config.phonemes


def test_config_validates_itself():
    with pytest.raises(ValueError, match="conv_kernel_size"):
        PhonemeRecognizerConfig(conv_kernel_size=4)
    with pytest.raises(ValueError, match="distinct"):
        PhonemeRecognizerConfig(phonemes=["a", "a"])
    with pytest.raises(ValueError, match="unknown recogniser preset"):
        PhonemeRecognizerConfig.preset("huge")
    with pytest.raises(ValueError, match="subsampling"):
        PhonemeRecognizerConfig(subsampling=0)
