"""Grad-TTS: the shared model checks, parameter counts, the relative attention, alignment, losses, synthesis."""

from __future__ import annotations

import doctest
import math

import pytest
import torch
from model_tester import ModelTesterMixin

from prosody_tts.configuration.grad_tts import GradTTSConfig
from prosody_tts.modeling import grad_tts
from prosody_tts.modeling.grad_tts import GradTTSModel, alignment_log_prior, path_from_durations
from prosody_tts.modeling.grad_tts_encoder import RelativeMultiHeadAttention


def batch(config: GradTTSConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Two items: 13 and 9 tokens, 60 and 41 frames of log-mel-like targets."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, config.vocab_size, (2, 13), generator=generator)
    mask = torch.ones(2, 13, dtype=torch.long)
    mask[1, 9:] = 0
    spectrogram = torch.randn(2, 60, config.n_mels, generator=generator) - 4
    return {"input_ids": ids, "attention_mask": mask, "spectrogram": spectrogram,
            "spectrogram_lengths": torch.tensor([60, 41])}  # fmt: skip


class TestGradTTSModel(ModelTesterMixin):
    model_class = GradTTSModel
    zero_init = {
        r"\.g$": "Rezero gates of the U-Net attention: each attention starts switched off",
        r"^encoder\.prenet\.proj\.weight$": "the prenet starts as the identity (official init)",
    }

    def get_config(self) -> GradTTSConfig:
        return GradTTSConfig.tiny(encoder_dropout=0.0, prenet_dropout=0.0)

    def get_inputs(self, config: GradTTSConfig, seed: int = 0) -> dict:
        return batch(config, seed)


def test_the_faithful_configuration_has_the_papers_size():
    model = GradTTSModel(GradTTSConfig())
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    # official LJSpeech release: 7.20 M encoder + 7.64 M decoder = 14.84 M (paper: 14.8 M)
    assert (count(model.encoder), count(model.decoder), count(model)) == (7_200_145, 7_634_887, 14_835_032)
    multi = GradTTSModel(GradTTSConfig(num_speakers=247))
    assert multi.spk_emb.weight.shape == (247, 64) and hasattr(multi.decoder.estimator, "spk_mlp")


def test_relative_attention_equals_the_explicit_sum():
    torch.manual_seed(0)
    attention = RelativeMultiHeadAttention(channels=8, n_heads=2, window_size=2, dropout=0.0).eval()
    x, n = torch.randn(1, 8, 7), 7
    mask = torch.ones(1, 1, n, n)
    got = attention(x, mask)
    split = lambda t: t.reshape(2, 4, n).transpose(1, 2)  # noqa: E731  (H, N, k)
    q, k, v = split(attention.conv_q(x)[0]), split(attention.conv_k(x)[0]), split(attention.conv_v(x)[0])
    rel_k, rel_v, w = attention.emb_rel_k[0], attention.emb_rel_v[0], 2
    out = torch.zeros(2, n, 4)
    for h in range(2):
        scores = torch.zeros(n, n)
        for i in range(n):
            for j in range(n):
                r = j - i
                scores[i, j] = q[h, i] @ k[h, j] + (q[h, i] @ rel_k[r + w] if abs(r) <= w else 0.0)
        p = torch.softmax(scores / math.sqrt(4), dim=-1)
        for i in range(n):
            for j in range(n):
                r = j - i
                out[h, i] += p[i, j] * (v[h, j] + (rel_v[r + w] if abs(r) <= w else 0.0))
    expected = attention.conv_o(out.transpose(1, 2).reshape(1, 8, n))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_log_prior_and_path_helpers_against_naive_loops():
    torch.manual_seed(1)
    mu, y = torch.randn(1, 5, 3), torch.randn(1, 5, 4)
    naive = torch.tensor([[[float(torch.distributions.Normal(mu[0, :, i], 1.0).log_prob(y[0, :, j]).sum())
                            for j in range(4)] for i in range(3)]])  # fmt: skip
    torch.testing.assert_close(alignment_log_prior(mu, y), naive, atol=1e-4, rtol=1e-5)
    path = path_from_durations(torch.tensor([[2.0, 1.0, 3.0]]), torch.ones(1, 3, 7))
    assert path[0].tolist() == [[1, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0]]


def test_training_aligns_every_frame_and_the_losses_fall():
    torch.manual_seed(0)
    config = GradTTSConfig.tiny(encoder_dropout=0.0, prenet_dropout=0.0)
    model = GradTTSModel(config).train()
    inputs = batch(config)
    out = model(**inputs)
    assert out.durations[0].sum() == 60 and out.durations[1].sum() == 41
    assert bool((out.durations[0] >= 1).all()) and bool((out.durations[1, :9] >= 1).all()) and out.durations[1, 9:].sum() == 0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        torch.manual_seed(1)  # the same diffusion times and crops each step: the loss must fall
        loss = model(**inputs).loss
        first = first if first is not None else float(loss.detach())
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.8 * first


def test_synthesis_is_seeded_and_follows_the_durations():
    torch.manual_seed(0)
    model = GradTTSModel(GradTTSConfig.tiny()).eval()
    ids, mask = batch(model.config)["input_ids"], batch(model.config)["attention_mask"]
    run = lambda **kw: model.synthesize(ids, mask, n_timesteps=3, generator=torch.Generator().manual_seed(5), **kw)  # noqa: E731
    first, again = run(), run()
    assert torch.equal(first.spectrogram, again.spectrogram)
    assert torch.equal(first.spectrogram_lengths, first.durations.sum(1).clamp_min(1).long())
    assert first.spectrogram.shape == (2, int(first.spectrogram_lengths.max()), 80)
    assert first.durations[1, 9:].sum() == 0  # padding speaks nothing
    slower = run(length_scale=2.0)
    assert torch.equal(slower.durations, first.durations * 2)
    stochastic = run(stochastic=True)
    assert stochastic.spectrogram.shape == first.spectrogram.shape
    assert not torch.equal(stochastic.spectrogram, first.spectrogram)


def test_speakers_and_bad_inputs_are_refused_with_the_reason():
    model = GradTTSModel(GradTTSConfig.tiny(num_speakers=3)).eval()
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(ValueError, match="needs speaker_ids"):
        model.synthesize(ids)
    with pytest.raises(ValueError, match="unknown speaker"):
        model.synthesize(ids, speaker_ids=torch.tensor([3]))
    assert model.synthesize(ids, speaker_ids=torch.tensor([2]), n_timesteps=1).spectrogram.shape[0] == 1
    single = GradTTSModel(GradTTSConfig.tiny()).eval()
    for kwargs, message in [
        (dict(n_timesteps=0), "n_timesteps"), (dict(temperature=0.0), "temperature"), (dict(length_scale=-1.0), "length_scale"),
        (dict(speaker_ids=torch.tensor([0])), "single-speaker"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            single.synthesize(ids, **kwargs)
    with pytest.raises(ValueError, match="non-empty"):
        single.synthesize(torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="no tokens"):
        single.synthesize(ids, attention_mask=torch.zeros(1, 3))
    with pytest.raises(ValueError, match="not both"):
        single.synthesize(ids, phoneme_input_ids=ids)
    with pytest.raises(ValueError, match="durations must be"):
        single.synthesize(ids, durations=torch.ones(1, 4))


def test_forward_without_a_spectrogram_synthesises_like_synthesize():
    model = GradTTSModel(GradTTSConfig.tiny()).eval()
    ids = torch.tensor([[1, 148, 2, 148, 3]])
    by_forward = model(ids, n_timesteps=2, generator=torch.Generator().manual_seed(3))
    by_synthesize = model.synthesize(ids, n_timesteps=2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(by_forward[0], by_synthesize.spectrogram)  # spectrogram first, as the pipeline reads it


def test_phoneme_ids_get_blanks_interspersed_like_the_official_front_end():
    model = GradTTSModel(GradTTSConfig.tiny()).eval()
    phonemes = torch.tensor([[5, 6, 7], [8, 9, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    official = torch.tensor([[148, 5, 148, 6, 148, 7, 148], [148, 8, 148, 9, 148, 0, 0]])
    official_mask = torch.tensor([[1] * 7, [1] * 5 + [0, 0]])
    kwargs = dict(n_timesteps=1)
    a = model.synthesize(phoneme_input_ids=phonemes, phoneme_attention_mask=mask, generator=torch.Generator().manual_seed(0), **kwargs)
    b = model.synthesize(official, official_mask, generator=torch.Generator().manual_seed(0), **kwargs)
    assert torch.equal(a.spectrogram, b.spectrogram) and torch.equal(a.durations, b.durations)


def test_given_durations_set_the_length_and_blanks_get_no_frames():
    model = GradTTSModel(GradTTSConfig.tiny()).eval()
    out = model.synthesize(phoneme_input_ids=torch.tensor([[5, 6, 7]]), durations=torch.tensor([[3, 0, 4]]), n_timesteps=1)
    assert out.spectrogram_lengths.tolist() == [7]
    assert out.durations.tolist() == [[0, 3, 0, 0, 0, 4, 0]]


@pytest.mark.parametrize(
    "overrides, message",
    [(dict(blank_id=149), "blank_id"), (dict(n_mels=81), "n_mels"), (dict(segment_frames=171), "segment_frames"),
     (dict(beta_min=30.0), "beta_min"), (dict(encoder_heads=5), "encoder_heads")],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        GradTTSConfig(**overrides)


def test_docstring_example_runs():
    assert doctest.testmod(grad_tts).failed == 0


def test_align_gives_the_training_alignment_and_feeds_synthesis_on_the_token_axis():
    config = GradTTSConfig.tiny(encoder_dropout=0.0, prenet_dropout=0.0)
    model = GradTTSModel(config).eval()
    inputs = batch(config)
    aligned = model.align(inputs["spectrogram"], inputs["spectrogram_lengths"], inputs["input_ids"], inputs["attention_mask"])
    torch.manual_seed(0)
    assert torch.equal(aligned, model(**inputs).durations)
    assert aligned.sum(1).tolist() == inputs["spectrogram_lengths"].tolist()
    out = model.synthesize(inputs["input_ids"], inputs["attention_mask"], durations=aligned, n_timesteps=1)
    assert out.spectrogram_lengths.tolist() == inputs["spectrogram_lengths"].tolist()


def test_an_item_decodes_the_same_alone_and_in_a_padded_batch():
    """The U-Net has no mask: synthesize must run each padded length on its own (noise made negligible)."""
    config = GradTTSConfig.tiny(encoder_dropout=0.0, prenet_dropout=0.0)
    model = GradTTSModel(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".g"):  # switch the linear attention on: it would mix in the padding
                param.fill_(0.5)
    inputs = batch(config)
    durations = torch.full((2, 13), 3.0)
    durations[1, 9:] = 0
    kwargs = dict(n_timesteps=2, temperature=1e9, durations=durations)
    together = model.synthesize(inputs["input_ids"], inputs["attention_mask"], **kwargs)
    for b in range(2):
        n = int(inputs["attention_mask"][b].sum())
        alone = model.synthesize(inputs["input_ids"][b : b + 1, :n], None, n_timesteps=2, temperature=1e9,
                                 durations=durations[b : b + 1, :n])  # fmt: skip
        frames = int(alone.spectrogram_lengths[0])
        torch.testing.assert_close(together.spectrogram[b, :frames], alone.spectrogram[0], atol=1e-4, rtol=1e-4)
