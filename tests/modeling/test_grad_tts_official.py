"""Our Grad-TTS against the official code: a converted checkpoint gives the official numbers.

The reference is ``official_grad_tts.py`` (beside this file): the official ``Grad-TTS/model`` module
code of huawei-noah/Speech-Backbones re-typed as plain torch modules, importing nothing of ours.
Each test builds it with seeded random weights in a small official-shaped configuration, takes
its ``state_dict()`` (the official key layout), converts that with our converter and runs both in
eval mode on the same blank-interspersed ids:

* encoder: ``mu_x``, ``logw`` (and the mask), batch of 1 and a padded batch of 2;
* durations: ``w_ceil = ceil(exp(logw) · mask) · length_scale`` exactly, the frame counts and the
  aligned encoder output ``mu_y``, for ``length_scale`` 1.0 and 0.91;
* decoder: the final spectrogram from the same starting point, 3 steps, temperature 1.5, the
  probability-flow ODE and the stochastic sampler (the per-step noise is the same too, see below);
* a multi-speaker model (3 speakers, 16-d table), as released (decoder conditioned only) and as
  the unmerged upstream PR #29 (text encoder conditioned too).

Noise: ours draws the start ``torch.randn(mu_y.shape, generator=g)`` and then, with
``stochastic=True``, one ``torch.randn(z.shape, generator=g)`` per step after the estimator call; the
official code draws the per-step noise from the global generator in the same place. So the
reference gets the start as ``z_noise`` drawn from the freshly seeded global generator with the
same shape, and its per-step draws continue from there: the same numbers on both sides. (Official
``torch.randn_like(mu_y)`` itself samples a non-contiguous tensor, so for one seed it is another
draw than ours: see ``test_the_official_start_noise_is_another_draw_for_the_same_seed``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from official_grad_tts import GradTTS, fix_len_compatibility, intersperse

from prosody_tts.modeling.convert_grad_tts import convert_grad_tts_checkpoint
from prosody_tts.modeling.grad_tts import GradTTSModel

#: Official ``GradTTS`` arguments (``Grad-TTS/params.py`` names), small channels for speed.
SMALL = dict(
    n_vocab=149, n_spks=1, spk_emb_dim=64, n_enc_channels=32, filter_channels=64, filter_channels_dp=32,
    n_heads=2, n_enc_layers=2, enc_kernel=3, enc_dropout=0.1, window_size=4, n_feats=80, dec_dim=16,
    beta_min=0.05, beta_max=20.0, pe_scale=1000,
)  # fmt: skip
#: The released LJSpeech configuration (``Grad-TTS/params.py``, 148 symbols + the blank).
LJSPEECH = dict(
    n_vocab=149, n_spks=1, spk_emb_dim=64, n_enc_channels=192, filter_channels=768, filter_channels_dp=256,
    n_heads=2, n_enc_layers=6, enc_kernel=3, enc_dropout=0.1, window_size=4, n_feats=80, dec_dim=64,
    beta_min=0.05, beta_max=20.0, pe_scale=1000,
)  # fmt: skip
VARIANTS = {
    "single": {},
    "single-pe1": {"pe_scale": 1},  # grad-tts-old.pt
    "multi": {"n_spks": 3, "spk_emb_dim": 16},  # as released: only the decoder sees the speaker
    "multi-encoder-spk": {"n_spks": 3, "spk_emb_dim": 16, "encoder_spk": True},  # upstream PR #29
}
BLANK = 148  # len(symbols): the official intersperse item
#: Encoder and durations: same ops on the same numbers (measured max |Δ| 0.0).
ENCODER_TOL = dict(atol=1e-5, rtol=1e-5)
#: Decoder outputs reach |y| ≈ 50–90 after 3 steps from random weights (measured max |Δ| 0.0).
DECODER_TOL = dict(atol=1e-4, rtol=1e-5)


def build_reference(variant: str, seed: int = 0) -> GradTTS:
    """The official module with seeded random weights; every path live (no zero gate, no zero prenet)."""
    torch.manual_seed(seed)
    reference = GradTTS(**{**SMALL, **VARIANTS[variant]})
    with torch.no_grad():
        for name, param in reference.named_parameters():
            # every tensor moves: LayerNorm/GroupNorm gains off 1, biases and the prenet proj off 0
            param.add_(0.05 * torch.randn_like(param))
            if name.endswith(".g"):  # Rezero gates: open, but small (linear attention is quadratic in x)
                param.copy_(0.1 * torch.randn_like(param))
        reference.encoder.proj_w.proj.bias.add_(1.0)  # durations of 2-7 frames rather than 1-2
    return reference.eval()


def convert(reference: GradTTS, **overrides) -> GradTTSModel:
    """Our model from the reference's state dict, through the converter (as for a released file)."""
    kwargs = dict(
        pe_scale=float(reference.pe_scale),
        n_speakers=reference.n_spks if reference.n_spks > 1 else None,
        encoder_heads=reference.n_heads,
        decoder_attention_heads=4,  # LinearAttention(dim) upstream: heads=4, dim_head=32
    )
    kwargs.update(overrides)
    return convert_grad_tts_checkpoint(reference.state_dict(), **kwargs).eval()


@pytest.fixture(scope="module")
def pairs() -> dict[str, tuple[GradTTS, GradTTSModel]]:
    built = {}
    with torch.random.fork_rng(devices=[]):
        for variant in VARIANTS:
            reference = build_reference(variant)
            built[variant] = (reference, convert(reference))
    return built


def one_utterance() -> tuple[torch.Tensor, torch.Tensor]:
    """(1, 15) ids: 7 symbols with blanks interspersed, as the official inference builds them."""
    symbols = torch.randint(0, BLANK, (7,), generator=torch.Generator().manual_seed(11)).tolist()
    x = torch.LongTensor(intersperse(symbols, BLANK))[None]
    return x, torch.LongTensor([x.shape[-1]])


def two_utterances() -> tuple[torch.Tensor, torch.Tensor]:
    """(2, 15) ids of 15 and 9 tokens (7 and 4 symbols, blanks interspersed), right-padded with 0."""
    generator = torch.Generator().manual_seed(12)
    rows = [intersperse(torch.randint(0, BLANK, (n,), generator=generator).tolist(), BLANK) for n in (7, 4)]
    x = torch.zeros(2, len(rows[0]), dtype=torch.long)
    for b, row in enumerate(rows):
        x[b, : len(row)] = torch.tensor(row)
    return x, torch.LongTensor([len(row) for row in rows])


def speakers(reference: GradTTS, batch: int) -> torch.Tensor | None:
    return torch.LongTensor([2, 0][:batch]) if reference.n_spks > 1 else None


def attention_mask(x_lengths: torch.Tensor, width: int) -> torch.Tensor:
    return (torch.arange(width)[None, :] < x_lengths[:, None]).long()


def run_reference(reference: GradTTS, x, x_lengths, spk, seed: int, **kwargs):
    """Official forward with the start noise ``torch.randn(mu_y.shape)`` of the freshly seeded global
    generator (ours draws the same from ``Generator().manual_seed(seed)``); stochastic steps go on
    drawing from it. A first pass without the decoder finds the shape of ``mu_y``."""
    with torch.random.fork_rng(devices=[]):
        reference(x, x_lengths, n_timesteps=1, spk=spk, length_scale=kwargs.get("length_scale", 1.0))
        shape = reference.last["mu_y"].shape
        torch.manual_seed(seed)
        z_noise = torch.randn(shape, dtype=torch.float32)
        encoder_outputs, decoder_outputs, _ = reference(x, x_lengths, spk=spk, z_noise=z_noise, **kwargs)
    return encoder_outputs, decoder_outputs, dict(reference.last)


# ------------------------------------------------------------------ the reference itself
def test_the_reference_has_the_released_key_layout_and_sizes():
    """Key for key, shape for shape and in registration order: the list taken from the official code."""
    layout = Path(__file__).with_name("data") / "grad_tts_official_keys.tsv"
    official = []
    for line in layout.read_text().splitlines():
        if line and not line.startswith("#"):
            key, shape = line.split("\t")
            official.append((key, tuple(int(n) for n in shape.strip("(,)").split(",") if n)))
    with torch.random.fork_rng(devices=[]):
        reference = GradTTS(**LJSPEECH)
        multi = GradTTS(**{**LJSPEECH, "n_spks": 247})
    assert [(key, tuple(value.shape)) for key, value in reference.state_dict().items()] == official
    assert sum(p.numel() for p in reference.parameters()) == 14_835_032
    # LibriTTS as released: the text encoder gets no speaker channels, the decoder a third input
    assert len(multi.state_dict()) == 312 and sum(p.numel() for p in multi.parameters()) == 14_888_680
    assert tuple(multi.state_dict()["encoder.proj_m.weight"].shape) == (80, 192, 1)


def test_the_converter_reads_the_variants_sizes(pairs):
    for variant, (reference, ours) in pairs.items():
        config = ours.config
        assert (config.num_speakers, config.pe_scale) == (reference.n_spks, reference.pe_scale), variant
        assert config.encoder_speaker_conditioning == (variant == "multi-encoder-spk"), variant
        assert config.decoder_dim_mults == [1, 2, 4] and config.blank_id == BLANK, variant


# ------------------------------------------------------------------ encoder and durations
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("inputs", [one_utterance, two_utterances], ids=["batch1", "batch2"])
def test_encoder_outputs_match(pairs, variant, inputs):
    reference, ours = pairs[variant]
    x, x_lengths = inputs()
    spk = speakers(reference, x.shape[0])
    with torch.no_grad():
        mu_ref, logw_ref, mask_ref = reference.encoder(
            x, x_lengths, None if spk is None else reference.spk_emb(spk)
        )
        mask = attention_mask(x_lengths, x.shape[1])[:, None, :].float()
        mu, logw = ours.encoder(x, mask, None if spk is None else ours.spk_emb(spk))
    torch.testing.assert_close(mask, mask_ref, atol=0, rtol=0)
    torch.testing.assert_close(mu, mu_ref, **ENCODER_TOL)
    torch.testing.assert_close(logw, logw_ref, **ENCODER_TOL)
    assert float(logw_ref.std()) > 0.1  # a live duration predictor, not a constant


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("length_scale", [1.0, 0.91])
@pytest.mark.parametrize("inputs", [one_utterance, two_utterances], ids=["batch1", "batch2"])
def test_durations_and_aligned_encoder_output_match(pairs, variant, length_scale, inputs):
    reference, ours = pairs[variant]
    x, x_lengths = inputs()
    spk = speakers(reference, x.shape[0])
    encoder_outputs, _, last = run_reference(
        reference, x, x_lengths, spk, seed=1, n_timesteps=1, temperature=1.5, length_scale=length_scale
    )
    out = ours.synthesize(
        x, attention_mask(x_lengths, x.shape[1]), spk, n_timesteps=1, temperature=1.5, length_scale=length_scale,
        generator=torch.Generator().manual_seed(1),
    )  # fmt: skip
    assert torch.equal(out.durations, last["w_ceil"].squeeze(1))  # exactly, fractional frames included
    assert torch.equal(out.spectrogram_lengths, last["y_lengths"])
    assert len(set(last["w_ceil"][last["x_mask"].bool()].tolist())) >= 3  # several different durations
    torch.testing.assert_close(out.encoder_spectrogram, encoder_outputs.transpose(1, 2), **ENCODER_TOL)


# ------------------------------------------------------------------ the decoder
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("stochastic", [False, True], ids=["ode", "sde"])
def test_the_spectrogram_matches_from_the_same_noise(pairs, variant, stochastic):
    """Batch of 1 as in the official inference: 3 steps, temperature 1.5, length_scale 0.91."""
    reference, ours = pairs[variant]
    x, x_lengths = one_utterance()
    spk = speakers(reference, 1)
    sampling = dict(n_timesteps=3, temperature=1.5, stoc=stochastic, length_scale=0.91)
    _, decoder_outputs, _ = run_reference(reference, x, x_lengths, spk, seed=5, **sampling)
    out = ours.synthesize(
        x, speaker_ids=spk, n_timesteps=3, temperature=1.5, length_scale=0.91, stochastic=stochastic,
        generator=torch.Generator().manual_seed(5),
    )  # fmt: skip
    assert out.spectrogram.shape == decoder_outputs.transpose(1, 2).shape
    torch.testing.assert_close(out.spectrogram, decoder_outputs.transpose(1, 2), **DECODER_TOL)
    assert float(decoder_outputs.abs().max()) > 1.0


def test_a_padded_batch_decodes_each_item_like_the_official_code_alone(pairs):
    """Deliberate difference: the official decoder runs a padded batch through the U-Net together
    (its GroupNorm and linear attention see the padding); ours decodes each padded length on its
    own, which is the official batch-of-1 result (the official inference is one text at a time)."""
    reference, ours = pairs["multi"]
    x, x_lengths = two_utterances()
    spk = speakers(reference, 2)
    out = ours.synthesize(
        x, attention_mask(x_lengths, x.shape[1]), spk, n_timesteps=3, temperature=1.5,
        generator=torch.Generator().manual_seed(9),
    )  # fmt: skip
    padded = fix_len_compatibility(out.spectrogram.shape[1])
    noise = torch.randn((2, 80, padded), generator=torch.Generator().manual_seed(9))  # ours' start draw
    for b in range(2):
        n = int(x_lengths[b])
        frames = int(out.spectrogram_lengths[b])
        padded = fix_len_compatibility(frames)
        _, alone, _ = reference(
            x[b : b + 1, :n], x_lengths[b : b + 1], n_timesteps=3, temperature=1.5, spk=spk[b : b + 1],
            z_noise=noise[b : b + 1, :, :padded],
        )  # fmt: skip
        torch.testing.assert_close(out.spectrogram[b : b + 1, :frames], alone.transpose(1, 2), **DECODER_TOL)
        assert torch.all(out.spectrogram[b, frames:] == 0)
    # the official batched decode of the shorter item is another spectrogram (padding in the statistics)
    _, together, _ = reference(x, x_lengths, n_timesteps=3, temperature=1.5, spk=spk, z_noise=noise)
    short = int(out.spectrogram_lengths[1])
    assert float((out.spectrogram[1, :short] - together.transpose(1, 2)[1, :short]).abs().max()) > 1e-2


def test_the_comparison_catches_a_deviating_decoder(pairs):
    """The same check fails for a wrong time scale or a wrong split of the attention heads."""
    reference, _ = pairs["single"]
    x, x_lengths = one_utterance()
    _, decoder_outputs, _ = run_reference(
        reference, x, x_lengths, None, seed=5, n_timesteps=3, temperature=1.5
    )
    for wrong in (convert(reference, pe_scale=1.0), convert(reference, decoder_attention_heads=2)):
        out = wrong.synthesize(x, n_timesteps=3, temperature=1.5, generator=torch.Generator().manual_seed(5))
        assert float((out.spectrogram - decoder_outputs.transpose(1, 2)).abs().max()) > 1e-2


def test_the_official_start_noise_is_another_draw_for_the_same_seed(pairs):
    """Upstream ``torch.randn_like(mu_y)`` fills a non-contiguous tensor (``mu_y`` is a transposed
    matmul result), which torch samples element by element: for one seed that is another sequence
    than ours, a contiguous ``torch.randn(mu_y.shape, generator=g)``. Same distribution; a converted
    model reproduces an official run from the same start (tests above), not from the same seed."""
    reference, ours = pairs["single"]
    x, x_lengths = one_utterance()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        _, official, _ = reference(x, x_lengths, n_timesteps=2, temperature=1.5)  # upstream's own draw
    mu_y = reference.last["mu_y"]
    assert not mu_y.is_contiguous()
    like = torch.empty_like(mu_y).normal_(generator=torch.Generator().manual_seed(5))
    _, again, _ = reference(x, x_lengths, n_timesteps=2, temperature=1.5, z_noise=like)
    torch.testing.assert_close(again, official, atol=0, rtol=0)
    ours_out = ours.synthesize(x, n_timesteps=2, temperature=1.5, generator=torch.Generator().manual_seed(5))
    assert float((ours_out.spectrogram - official.transpose(1, 2)).abs().max()) > 1e-2
