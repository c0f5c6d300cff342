"""The Mel-VAE: the shared model checks, both bottlenecks, shapes and rates, masking, residual quantisation."""

from __future__ import annotations

import pytest
import torch
from model_tester import ModelTesterMixin

from prosody_tts.configuration import MelVaeConfig
from prosody_tts.modeling import MelVaeModel
from prosody_tts.modeling.mel_vae import ResidualVectorQuantizer


def vae_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {"spectrogram": torch.randn(2, 45, 80, generator=generator) - 5, "spectrogram_lengths": torch.tensor([45, 29])}


class TestMelVaeKL(ModelTesterMixin):
    model_class = MelVaeModel

    def get_config(self) -> MelVaeConfig:
        return MelVaeConfig.tiny()

    def get_inputs(self, config: MelVaeConfig, seed: int = 0) -> dict:
        return vae_batch(seed)


class TestMelVaeRVQ(TestMelVaeKL):
    def get_config(self) -> MelVaeConfig:
        return MelVaeConfig.tiny(bottleneck="rvq", rvq_codebooks=2, rvq_codebook_size=16)



@pytest.mark.parametrize("bottleneck", ["kl", "rvq"])
def test_padding_frames_do_not_reach_the_latents_of_real_frames(bottleneck):
    vae = MelVaeModel(MelVaeConfig.tiny(bottleneck=bottleneck)).eval()
    mel = torch.randn(1, 29, 80) - 5
    padded = torch.cat([mel, torch.full((1, 11, 80), -11.5)], 1)
    alone, lengths = vae.encode(mel)
    batched, padded_lengths = vae.encode(padded, torch.tensor([29]))
    assert lengths.tolist() == padded_lengths.tolist() == [4]
    assert torch.allclose(alone, batched[:, :4], atol=1e-5) and float(batched[:, 4:].abs().max()) == 0.0


def test_rate_and_latent_shapes_follow_the_config():
    config = MelVaeConfig.tiny(downsample_factors=[2, 4], channel_mults=[1, 2, 2])
    vae = MelVaeModel(config).eval()
    assert config.downsample_rate == 8 and config.latent_length(41) == 6
    latents, lengths = vae.encode(torch.randn(2, 41, 80) - 5, torch.tensor([41, 17]))
    assert latents.shape == (2, 6, config.latent_channels) and lengths.tolist() == [6, 3]
    assert float(latents[1, 3:].abs().max()) == 0.0  # padded latent frames are zero
    assert vae.decode(latents, lengths).shape == (2, 48, 80)


def test_the_default_rate_is_dittos_latent_rate():
    assert MelVaeConfig().latent_rate == pytest.approx(22050 / 256 / 8)  # 10.77 latents per second


def test_kl_sampling_is_seeded_and_the_mean_is_deterministic():
    vae = MelVaeModel(MelVaeConfig.tiny()).eval()
    mel = torch.randn(1, 32, 80) - 5
    mean_a, _ = vae.encode(mel)
    mean_b, _ = vae.encode(mel)
    sample_a, _ = vae.encode(mel, sample=True, generator=torch.Generator().manual_seed(3))
    sample_b, _ = vae.encode(mel, sample=True, generator=torch.Generator().manual_seed(3))
    assert torch.equal(mean_a, mean_b) and torch.equal(sample_a, sample_b) and not torch.equal(mean_a, sample_a)


def test_reconstruction_loss_is_the_l1_of_the_real_frames_in_log_mel_units():
    vae = MelVaeModel(MelVaeConfig.tiny(bottleneck="rvq")).eval()
    batch = vae_batch()
    out = vae(**batch)
    lengths = batch["spectrogram_lengths"]
    errors = [(out.reconstruction[b, : int(n)] - batch["spectrogram"][b, : int(n)]).abs() for b, n in enumerate(lengths)]
    expected = sum(float(e.sum()) for e in errors) / (int(lengths.sum()) * 80)
    assert float(out.reconstruction_loss) == pytest.approx(expected, rel=1e-5)


def test_residual_quantizer_matches_a_naive_nearest_codeword_loop():
    torch.manual_seed(0)
    rvq = ResidualVectorQuantizer(codebooks=3, codebook_size=5, dim=4, commitment_weight=0.25)
    z = torch.randn(2, 4, 6)
    quantized, codes, _ = rvq(z, torch.ones(2, 1, 6))
    for b in range(2):
        for t in range(6):
            residual, total = z[b, :, t].clone(), torch.zeros(4)
            for k, book in enumerate(rvq.codebooks):
                index = int(((book.weight - residual) ** 2).sum(1).argmin())
                assert index == int(codes[b, k, t])
                total += book.weight[index].detach()
                residual -= book.weight[index].detach()
            assert torch.allclose(quantized[b, :, t], total, atol=1e-5)


def test_bad_inputs_are_refused_with_the_expected_shape():
    vae = MelVaeModel(MelVaeConfig.tiny())
    with pytest.raises(ValueError, match="80"):
        vae(torch.randn(1, 20, 40))
    with pytest.raises(ValueError, match="spectrogram_lengths"):
        vae(torch.randn(1, 20, 80), torch.tensor([21]))
    with pytest.raises(TypeError, match="phoneme_input_ids"):
        vae(torch.randn(1, 20, 80), phoneme_input_ids=torch.ones(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="channel_mults"):
        MelVaeConfig(channel_mults=[1, 2])
    with pytest.raises(ValueError, match="bottleneck"):
        MelVaeConfig(bottleneck="fsq")
