"""The latent-diffusion head: the shared model checks, schedules against diffusers, oracle sampling,
span masks, guidance, the length predictor and the voice prompt."""

from __future__ import annotations

import pytest
import torch
from model_tester import ModelTesterMixin, tiny_text_batch

from prosody_tts.configuration import DualStreamConfig, LatentDiffusionTTSConfig, MelVaeConfig
from prosody_tts.modeling import DualStreamModel, LatentDiffusionTTSModel, MelVaeModel
from prosody_tts.modeling.latent_diffusion import span_mask
from prosody_tts.modeling.latent_schedules import LatentDiffusionSchedule


def latent_config(**overrides) -> LatentDiffusionTTSConfig:
    text = DualStreamConfig.tiny(bpe_vocab_size=120, hidden_dropout=0.0, external_speaker_dim=16)
    values = dict(num_speakers=3, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64,
                  length_predictor_channels=16, length_predictor_dropout=0.0, cfg_drop_prob=0.5,
                  vae_config=MelVaeConfig.tiny(channels=8, latent_channels=4))  # fmt: skip
    values.update(overrides)
    return LatentDiffusionTTSConfig.with_text_encoder(text, **values)


def latent_batch(config: LatentDiffusionTTSConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    text = config.text_config
    generator = torch.Generator().manual_seed(seed)
    return {
        **tiny_text_batch(text.phoneme_vocab_size, text.bpe_vocab_size, seed),
        "spectrogram": torch.randn(2, 60, config.n_mels, generator=generator) - 5,
        "spectrogram_lengths": torch.tensor([60, 37]),
        "speaker_ids": torch.tensor([2, 0]),
    }


def _text(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if k.startswith(("phoneme_", "bpe_"))}


class TestLatentDiffusionTTS(ModelTesterMixin):
    model_class = LatentDiffusionTTSModel
    zero_init = {
        r"\.modulation\.": "AdaLN-Zero modulations (encoder and DiT blocks): each block starts as the identity",
        r"final_modulation\.": "the DiT's final AdaLN starts neutral",
        r"dit\.output\.": "the DiT predicts 0 at init",
        r"(pooled|speaker)_projection\.": "the pooled text and the speaker enter the condition gradually",
        r"fusion\.projection\.": "the dual-stream word fusion adds nothing at first",
    }
    gradient_exceptions = {
        r"speaker\.null_embedding$": "the encoder's learned null speaker is used only when no speaker is given",
    }

    def get_config(self) -> LatentDiffusionTTSConfig:
        return latent_config()

    def get_inputs(self, config: LatentDiffusionTTSConfig, seed: int = 0) -> dict:
        return latent_batch(config, seed)

    def training_inputs(self, config: LatentDiffusionTTSConfig) -> list[dict]:
        batches = [latent_batch(config, seed) for seed in range(3)]
        torch.manual_seed(1)  # the null text is drawn for some items and not for others (checked below)
        return batches


def test_training_draws_both_the_text_and_the_null_text_in_the_tester_seed():
    torch.manual_seed(1)
    draws = torch.cat([torch.rand(2) < 0.5 for _ in range(3)])
    assert draws.any() and not draws.all()  # loose check that the seeded step exercises both routes


@pytest.mark.parametrize("objective", ["v_prediction", "flow_matching"])
def test_training_inputs_match_diffusers(objective):
    from diffusers import DDPMScheduler

    schedule = LatentDiffusionSchedule(objective, 1000, 0.3, 1.0)
    z, noise = torch.randn(4, 6, 3), torch.randn(4, 6, 3)
    u = torch.tensor([0.0, 0.25, 0.5, 0.9995])
    noisy, target, time = schedule.training_inputs(z, noise, u)
    if objective == "flow_matching":  # x_σ = (1 − σ) z + σ ε, u = ε − z, on diffusers' σ = t / N
        sigma = u[:, None, None]
        assert torch.allclose(noisy, (1 - sigma) * z + sigma * noise) and torch.allclose(target, noise - z)
        return
    alphas = schedule.alphas_cumprod
    betas = (1 - alphas / torch.cat([alphas.new_ones(1), alphas[:-1]])).tolist()
    reference = DDPMScheduler(num_train_timesteps=1000, trained_betas=betas, prediction_type="v_prediction")
    steps = (u * 1000).long().clamp(max=999)
    assert torch.allclose(noisy, reference.add_noise(z, noise, steps), atol=1e-5)
    assert torch.allclose(target, reference.get_velocity(z, noise, steps), atol=1e-5)
    assert torch.allclose(time, steps.float() / 1000)


def test_the_shift_moves_the_cosine_schedule_toward_noise():
    plain = LatentDiffusionSchedule("v_prediction", 1000, 1.0, 1.0).alphas_cumprod
    shifted = LatentDiffusionSchedule("v_prediction", 1000, 0.3, 1.0).alphas_cumprod
    snr = lambda a: a / (1 - a)  # noqa: E731
    assert torch.allclose(snr(shifted[:-1]), 0.09 * snr(plain[:-1]), rtol=1e-6)  # SNR · shift²


@pytest.mark.parametrize(("objective", "sampler"), [("v_prediction", "ddim"), ("v_prediction", "dpm_solver"), ("flow_matching", "euler")])
def test_an_oracle_model_samples_the_clean_latent(objective, sampler):
    """With the exact prediction for a known clean latent, every sampler must land on it."""
    schedule = LatentDiffusionSchedule(objective, 1000, 0.3, 1.0)
    z0 = torch.randn(1, 5, 3, generator=torch.Generator().manual_seed(0))
    scheduler = schedule.sampler(sampler, 10)
    x = torch.randn(z0.shape, generator=torch.Generator().manual_seed(1))
    for timestep in scheduler.timesteps:
        if objective == "flow_matching":
            sigma = schedule.time_input(timestep)
            eps = (x - (1 - sigma) * z0) / sigma
            prediction = eps - z0
        else:
            a_bar = schedule.alphas_cumprod[int(timestep)].float()
            a, s = a_bar.sqrt(), (1 - a_bar).sqrt()
            eps = (x - a * z0) / s
            prediction = a * eps - s * z0
        x = scheduler.step(prediction, timestep, x).prev_sample
    assert torch.allclose(x, z0, atol=1e-3), (x - z0).abs().max()


def test_span_masks_cover_the_configured_share_and_stay_inside_each_item():
    torch.manual_seed(0)
    lengths = torch.randint(5, 40, (500,))
    mask = span_mask(lengths, 40, 0.7, 1.0, 0.1)
    counts = mask.sum(1)
    assert bool((counts >= 1).all()) and bool((counts <= lengths).all())
    assert not bool((mask & (torch.arange(40)[None] >= lengths[:, None])).any())
    share = counts.float() / lengths
    assert float(share.min()) >= 0.6 and 0.82 < float(share.mean()) < 0.9  # U(0.7, 1) and 10 % whole items
    runs = (mask[:, 1:].int() - mask[:, :-1].int()).clamp(min=0).sum(1) + mask[:, 0].int()
    assert bool((runs == 1).all())  # one contiguous span


def test_guidance_one_is_the_conditioned_prediction_and_guidance_changes_the_output():
    model = LatentDiffusionTTSModel(latent_config()).eval()
    for name, param in model.named_parameters():  # a live network (zero-init output otherwise)
        if "dit" in name or "projection" in name:
            torch.nn.init.normal_(param, std=0.1)
    batch = latent_batch(model.config)
    common = dict(**_text(batch), speaker_ids=batch["speaker_ids"], latent_lengths=torch.tensor([4, 3]), n_timesteps=3)
    a = model.synthesize(**common, guidance_scale=1.0, generator=torch.Generator().manual_seed(0))
    b = model.synthesize(**common, guidance_scale=1.0, generator=torch.Generator().manual_seed(0))
    c = model.synthesize(**common, guidance_scale=3.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.spectrogram, b.spectrogram)  # seeded
    assert not torch.allclose(a.latents, c.latents)
    assert a.spectrogram_lengths.tolist() == [32, 24] and a.latent_lengths.tolist() == [4, 3]


def test_the_length_predictor_sums_positive_phoneme_rates_and_learns_a_length():
    model = LatentDiffusionTTSModel(latent_config(cfg_drop_prob=0.0)).train()
    batch = latent_batch(model.config)
    optimizer = torch.optim.Adam(model.length_predictor.parameters(), lr=0.05)
    first = None
    for _ in range(40):
        out = model(**batch)
        optimizer.zero_grad()
        out.length_loss.backward()
        optimizer.step()
        first = first if first is not None else float(out.length_loss)
    assert float(out.length_loss) < 0.1 * first
    assert torch.allclose(out.predicted_lengths, out.latent_lengths.float(), rtol=0.2)
    assert all(p.grad is None or float(p.grad.abs().max()) == 0 for p in model.dit.parameters())  # length loss stays apart


def test_a_voice_prompt_is_continued_and_its_speaking_rate_scales_the_length():
    model = LatentDiffusionTTSModel(latent_config()).eval()
    batch = latent_batch(model.config)
    text = {k: v[:1] for k, v in _text(batch).items()}
    states, mask = model._encode_text(text, model._speaker(torch.tensor([0]), None, 1))
    total, rates = model.predict_lengths(states, mask)
    assert torch.allclose(model.predict_text_lengths(**text, speaker_ids=torch.tensor([0])), total)
    prompt = torch.randn(1, 40, 80) - 5  # 5 latent frames
    out = model.synthesize(**text, speaker_ids=torch.tensor([0]), prompt_spectrogram=prompt, prompt_phonemes=torch.tensor([4]), n_timesteps=2)
    speed = 5 / float(rates[0, :4].sum())
    assert int(out.latent_lengths[0]) == max(1, round(float(rates[0, 4:].sum()) * speed))
    with pytest.raises(ValueError, match="prompt_phonemes"):
        model.synthesize(**text, speaker_ids=torch.tensor([0]), prompt_spectrogram=prompt, n_timesteps=2)
    with pytest.raises(ValueError, match="at least one token"):
        model.synthesize(**text, speaker_ids=torch.tensor([0]), prompt_spectrogram=prompt, prompt_phonemes=torch.tensor([10]))


def test_a_frozen_encoder_gets_no_gradient_and_stays_in_eval_mode():
    model = LatentDiffusionTTSModel(latent_config(freeze_text_encoder=True)).train()
    assert not model.text_model.training and not model.vae.training
    model(**latent_batch(model.config)).loss.backward()
    assert all(p.grad is None for p in model.text_model.parameters())
    assert all(not p.requires_grad for p in model.vae.parameters())
    assert model.context_projection.weight.grad is not None


def test_from_parts_copies_the_encoder_and_the_vae(tmp_path):
    encoder = DualStreamModel(DualStreamConfig.tiny(bpe_vocab_size=120, external_speaker_dim=16))
    encoder.save_pretrained(tmp_path / "stage")
    vae = MelVaeModel(MelVaeConfig.tiny(channels=8, latent_channels=4, mel_mean=-4.0))
    vae.save_pretrained(tmp_path / "vae")
    model = LatentDiffusionTTSModel.from_parts(tmp_path / "stage", tmp_path / "vae", tiny=True, num_speakers=2)
    assert model.config.vae_config.mel_mean == -4.0 and model.config.speaker_embedding_dim == 16
    for name, tensor in encoder.state_dict().items():
        assert torch.equal(model.text_model.state_dict()[name], tensor), name
    for name, tensor in vae.state_dict().items():
        assert torch.equal(model.vae.state_dict()[name], tensor), name


def test_bad_configs_and_inputs_are_refused():
    text = DualStreamConfig.tiny()
    with pytest.raises(ValueError, match="does not fit"):
        LatentDiffusionTTSConfig.tiny(text_config=text, objective="flow_matching")
    assert LatentDiffusionTTSConfig().text_config.hidden_size == DualStreamConfig().hidden_size  # a default encoder
    with pytest.raises(ValueError, match="latent_mean"):
        LatentDiffusionTTSConfig.tiny(text_config=text, latent_mean=[0.0])
    model = LatentDiffusionTTSModel(latent_config()).eval()
    batch = latent_batch(model.config)
    with pytest.raises(ValueError, match="speaker_ids"):
        model.synthesize(**_text(batch), n_timesteps=1)
    with pytest.raises(ValueError, match="max_latent_frames"):
        model.synthesize(**_text(batch), speaker_ids=batch["speaker_ids"], latent_lengths=torch.tensor([5000, 3]))
    with pytest.raises(TypeError, match="durations"):
        model.synthesize(**_text(batch), speaker_ids=batch["speaker_ids"], durations=torch.ones(2, 3))


@pytest.mark.parametrize("name", ["dit", "latent_schedules", "mel_vae", "latent_diffusion", "layers"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module(f"prosody_tts.modeling.{name}")
    assert doctest.testmod(module).failed == 0
