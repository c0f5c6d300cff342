"""ECAPA-TDNN audio tower: config, shapes, masking invariance, segment pooling, training, sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from model_tester import ModelTesterMixin

from prosody_tts.configuration.ecapa_tdnn import EcapaTdnnConfig
from prosody_tts.modeling.ecapa_tdnn import EcapaTdnnModel, MaskedBatchNorm1d, weighted_statistics
from prosody_tts.modeling.outputs import EcapaTdnnOutput

ATOL = 1e-5
LENGTHS = [40, 31, 26, 40]
PAD_VALUE = math.log(1e-5)  # what MelFeatureExtractor writes at padded frames


def make_model(seed: int = 0, **overrides) -> EcapaTdnnModel:
    torch.manual_seed(seed)
    return EcapaTdnnModel(EcapaTdnnConfig.tiny(**overrides)).eval()


def padded_batch(lengths: list[int], total: int, seed: int = 0, pad_value: float = PAD_VALUE):
    """Log-mel-like features (B, total, 80), right-padded with ``pad_value``, and the mask (B, total)."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.full((len(lengths), total, 80), pad_value)
    mask = torch.zeros(len(lengths), total, dtype=torch.long)
    for i, n in enumerate(lengths):
        features[i, :n] = torch.randn(n, 80, generator=generator) * 2.0 - 6.0
        mask[i, :n] = 1
    return features, mask


def random_spans(lengths: list[int], per_item: int, seed: int = 0) -> torch.Tensor:
    """``per_item`` random spans (1-12 frames) per item, touching both ends of each item."""
    rng = np.random.default_rng(seed)
    rows = []
    for b, n in enumerate(lengths):
        rows += [(b, 0, min(3, n)), (b, max(n - 4, 0), n)]  # edges: context gets clipped
        for _ in range(per_item - 2):
            start = int(rng.integers(0, n - 1))
            rows.append((b, start, int(min(n, start + rng.integers(1, 13)))))
    return torch.tensor(rows)


def naive_segments(model, frame_features, lengths, spans, context) -> torch.Tensor:
    """Pool each span separately from a slice of its frames (the obvious loop)."""
    out = []
    for b, start, end in spans.tolist():
        low, high = max(start - context, 0), min(end + context, lengths[b])
        out.append(model.pool_frames(frame_features[b : b + 1, low:high]))
    return torch.cat(out)


# ---------------------------------------------------------------------------------- config
def test_config_round_trip_and_presets(tmp_path):
    config = EcapaTdnnConfig.tiny(segment_context_frames=3)
    config.save_pretrained(tmp_path)
    loaded = EcapaTdnnConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded.model_type == "prosody_tts_ecapa_tdnn"
    assert loaded.channels == [64, 64, 64, 64, 192] and loaded.segment_context_frames == 3

    default = EcapaTdnnConfig()
    assert default.channels == [1024, 1024, 1024, 1024, 3072]
    assert default.kernel_sizes == [5, 3, 3, 3, 1] and default.dilations == [1, 2, 3, 4, 1]
    assert (default.attention_channels, default.res2net_scale, default.se_channels) == (128, 8, 128)
    assert default.global_context and default.embedding_dim == 192 and default.num_mel_bins == 80
    assert EcapaTdnnConfig.small().channels == [512, 512, 512, 512, 1536]
    assert EcapaTdnnConfig.small(embedding_dim=256).embedding_dim == 256


@pytest.mark.parametrize(
    "overrides",
    [
        dict(channels=[64, 64, 192]  + [1], kernel_sizes=[5, 3, 1]),  # lengths differ
        dict(kernel_sizes=[5, 3, 4, 3, 1]),  # even kernel
        dict(channels=[64, 60, 64, 64, 192]),  # 60 % 8
        dict(channels=[64, 192], kernel_sizes=[5, 1], dilations=[1, 1]),  # too few layers
        dict(segment_context_frames=-1),
    ],
)
def test_config_rejects_bad_values(overrides):
    with pytest.raises(ValueError):
        EcapaTdnnConfig.tiny(**overrides)


# ---------------------------------------------------------------------------------- sizes
class TestEcapaTdnnModel(ModelTesterMixin):
    model_class = EcapaTdnnModel
    gradient_exceptions = {
        r"^asp\.conv\.bias$": "a per-channel constant added to the attention logits cancels in the softmax "
        "over time, so this (SpeechBrain-parity) bias gets a zero gradient up to rounding",
    }

    def get_config(self) -> EcapaTdnnConfig:
        return EcapaTdnnConfig.tiny()

    def get_inputs(self, config: EcapaTdnnConfig, seed: int = 4) -> dict:
        features, mask = padded_batch(LENGTHS, max(LENGTHS), seed=seed)
        return {
            "input_features": features,
            "feature_attention_mask": mask,
            "segment_spans": random_spans(LENGTHS, 6, seed=seed + 1),
        }

    def loss_of(self, output) -> torch.Tensor:
        # utterances 0/1 and 2/3 are "same speaker"; segments are pulled to random targets
        targets = torch.randn(output.segment_embeddings.shape, generator=torch.Generator().manual_seed(0))
        loss = (1 - F.cosine_similarity(output.embeddings[0::2], output.embeddings[1::2])).mean()
        return loss + (1 - F.cosine_similarity(output.segment_embeddings, targets)).mean()

    def padded_inputs(self, config: EcapaTdnnConfig):
        padded = self.get_inputs(config)
        n = LENGTHS[1]
        own = padded["segment_spans"][padded["segment_spans"][:, 0] == 1].clone()
        own[:, 0] = 0
        short = {"input_features": padded["input_features"][1:2, :n], "segment_spans": own}

        def compare(alone, in_batch):
            torch.testing.assert_close(in_batch.embeddings[1:2], alone.embeddings, atol=ATOL, rtol=0)
            torch.testing.assert_close(
                in_batch.segment_embeddings[padded["segment_spans"][:, 0] == 1], alone.segment_embeddings,
                atol=ATOL, rtol=0,
            )  # fmt: skip

        return short, padded, compare


def analytic_parameter_count(config: EcapaTdnnConfig) -> int:
    """Parameters of ECAPA-TDNN derived from the architecture (BN running stats are buffers).

    TDNN(i -> o, k)        = i*o*k + o (conv) + 2*o (BN weight, bias)
    SE-Res2Block(C, k, s)  = TDNN(C_in -> C, 1) + TDNN(C -> C, 1)     (tdnn1, tdnn2)
                           + (s - 1) * TDNN(C/s -> C/s, k)             (Res2Net splits 1..s-1)
                           + C*se + se + se*C + C                      (SE 1x1 convs)
                           [+ C_in*C + C  shortcut when C_in != C]
    MFA                    = TDNN(sum(C_1..C_{L-1}) -> C_L, k_L)
    ASP                    = TDNN(3*C_L -> A, 1) + A*C_L + C_L         (3*C_L: global context)
    head                   = 2*(2*C_L) (BN) + 2*C_L*E + E              (1x1 conv to E)
    """

    def tdnn(i: int, o: int, k: int) -> int:
        return i * o * k + o + 2 * o

    c, k, s, se = config.channels, config.kernel_sizes, config.res2net_scale, config.se_channels
    total = tdnn(config.num_mel_bins, c[0], k[0])
    for i in range(1, len(c) - 1):
        total += tdnn(c[i - 1], c[i], 1) + tdnn(c[i], c[i], 1) + (s - 1) * tdnn(c[i] // s, c[i] // s, k[i])
        total += c[i] * se + se + se * c[i] + c[i]
        if c[i - 1] != c[i]:
            total += c[i - 1] * c[i] + c[i]
    total += tdnn(sum(c[1:-1]), c[-1], k[-1])
    attention_in = 3 * c[-1] if config.global_context else c[-1]
    total += tdnn(attention_in, config.attention_channels, 1) + config.attention_channels * c[-1] + c[-1]
    total += 2 * (2 * c[-1]) + 2 * c[-1] * config.embedding_dim + config.embedding_dim
    return total


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # C=512, MFA 1536 (SpeechBrain code default). Published: 6.2M (Desplanques et al. 2020).
        #   TDNN 80->512 k5: 206,336; SE-Res2Block 512: 2*263,680 + 7*12,480 + 131,712 = 746,432 (x3);
        #   MFA 1536->1536: 2,363,904; ASP: 590,208 + 198,144; head: 6,144 + 590,016.
        (EcapaTdnnConfig.small(), 6_194_048),
        # C=1024, MFA 3072 (SpeechBrain VoxCeleb recipe). Published: 20.8M (3D-Speaker's table).
        #   TDNN 412,672; SE-Res2Block 2,713,344 (x3); MFA 9,446,400; ASP 1,576,320; head 1,192,128.
        (EcapaTdnnConfig(), 20_767_552),
        # The paper's C=1024 model keeps the 1536-channel MFA: 14,660,416, its published 14.7M.
        (EcapaTdnnConfig(channels=[1024, 1024, 1024, 1024, 1536]), 14_660_416),
        (EcapaTdnnConfig.tiny(), 137_832),
        (EcapaTdnnConfig.tiny(channels=[32, 64, 64, 64, 192], global_context=False), None),
    ],
)
def test_parameter_counts_match_the_architecture(config, expected):
    with torch.device("meta"):
        model = EcapaTdnnModel(config)
    ours = sum(p.numel() for p in model.parameters())
    assert ours == analytic_parameter_count(config)
    if expected is not None:
        assert ours == expected
    assert sum(p.numel() for p in EcapaTdnnModel(EcapaTdnnConfig.tiny()).parameters()) < 1_000_000


# ---------------------------------------------------------------------------------- outputs
def test_output_shapes_and_tuple():
    model = make_model()
    features, mask = padded_batch([40, 25], 40)
    spans = torch.tensor([[0, 0, 5], [1, 20, 25], [0, 10, 11]])
    out = model(features, feature_attention_mask=mask, segment_spans=spans)
    assert isinstance(out, EcapaTdnnOutput)
    assert out.embeddings.shape == (2, 32)
    assert out.frame_features.shape == (2, 40, 192)
    assert out.segment_embeddings.shape == (3, 32)
    assert torch.all(out.frame_features[1, 25:] == 0)  # padded frames are exactly zero
    no_spans = model(features, feature_attention_mask=mask)
    assert no_spans.segment_embeddings is None and torch.equal(no_spans[0], out.embeddings)
    as_tuple = model(features, feature_attention_mask=mask, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    empty = model(features, feature_attention_mask=mask, segment_spans=torch.zeros(0, 3, dtype=torch.long))
    assert empty.segment_embeddings.shape == (0, 32)


def test_save_load_keeps_batch_norm_running_statistics(tmp_path):
    model = make_model()
    features, mask = padded_batch([30, 22], 30)
    model.train()
    model(features, feature_attention_mask=mask)  # moves BN running stats
    model.save_pretrained(tmp_path)
    loaded = EcapaTdnnModel.from_pretrained(tmp_path)
    assert torch.equal(loaded.blocks[0].norm.running_var, model.blocks[0].norm.running_var)
    assert not torch.equal(model.blocks[0].norm.running_var, torch.ones_like(model.blocks[0].norm.running_var))


def test_attention_mask_alias_and_feature_extractor():
    from prosody_tts.processing.feature_extraction import MelFeatureExtractor

    extractor = MelFeatureExtractor()
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (22050 // 2, 22050 // 4)]
    inputs = extractor(waves, sampling_rate=22050, return_tensors="pt")
    model = make_model()
    batch = model(**inputs)  # feature extractor's "attention_mask" is accepted
    for i, wave in enumerate(waves):
        alone = extractor([wave], sampling_rate=22050, return_tensors="pt")
        single = model(alone["input_features"], feature_attention_mask=alone["attention_mask"])
        torch.testing.assert_close(batch.embeddings[i : i + 1], single.embeddings, atol=ATOL, rtol=0)


# ---------------------------------------------------------------------------------- invariance
@pytest.mark.parametrize("pad_value", [PAD_VALUE, 1e4])
def test_padding_invariance_eval(pad_value):
    """Each item alone (no padding) == the same item in a longer right-padded batch."""
    model = make_model()
    lengths = [37, 50, 23]
    features, mask = padded_batch(lengths, 64, pad_value=pad_value)
    spans = random_spans(lengths, 8)
    batch = model(features, feature_attention_mask=mask, segment_spans=spans)
    for b, n in enumerate(lengths):
        own = spans[spans[:, 0] == b].clone()
        own[:, 0] = 0
        alone = model(features[b : b + 1, :n], segment_spans=own)
        torch.testing.assert_close(batch.embeddings[b : b + 1], alone.embeddings, atol=ATOL, rtol=0)
        torch.testing.assert_close(batch.frame_features[b : b + 1, :n], alone.frame_features, atol=ATOL, rtol=0)
        torch.testing.assert_close(
            batch.segment_embeddings[spans[:, 0] == b], alone.segment_embeddings, atol=ATOL, rtol=0
        )
        assert torch.all(batch.frame_features[b, n:] == 0)


def test_padding_never_contributes_in_train_mode():
    """Train mode: batch-norm statistics mix items, but extra padding (and chunking) change nothing."""
    lengths = [37, 50, 23]
    spans = random_spans(lengths, 6)
    outputs, stats = [], []
    for total, chunk in ((50, 1024), (80, 3)):  # more padding, and chunked segment pooling
        model = make_model(segment_chunk_size=chunk).train()
        features, mask = padded_batch(lengths, total, pad_value=123.0)
        outputs.append(model(features, feature_attention_mask=mask, segment_spans=spans))
        stats.append([b.clone() for b in model.buffers()])
    for name in ("embeddings", "segment_embeddings"):
        torch.testing.assert_close(outputs[0][name], outputs[1][name], atol=ATOL, rtol=0)
    torch.testing.assert_close(outputs[0].frame_features, outputs[1].frame_features[:, :50], atol=ATOL, rtol=0)
    for a, b in zip(*stats, strict=True):
        torch.testing.assert_close(a, b, atol=ATOL, rtol=0)


# ---------------------------------------------------------------------------------- segments
@pytest.mark.parametrize("context", [0, 2, 5])
def test_segment_pooling_equals_naive_loop(context):
    model = make_model(segment_context_frames=context)
    lengths = [60, 41, 18, 55]
    features, mask = padded_batch(lengths, 60, seed=1)
    spans = random_spans(lengths, 12, seed=2)
    out = model(features, feature_attention_mask=mask, segment_spans=spans)
    naive = naive_segments(model, out.frame_features, lengths, spans, context)
    torch.testing.assert_close(out.segment_embeddings, naive, atol=ATOL, rtol=0)
    model.config.segment_chunk_size = 5  # chunking does not change results
    chunked = model.pool_segments(out.frame_features, spans, mask)
    torch.testing.assert_close(chunked, out.segment_embeddings, atol=ATOL, rtol=0)


def test_context_margin_is_clipped_at_the_edges():
    model = make_model(segment_context_frames=4)
    lengths = [30, 20]
    features, mask = padded_batch(lengths, 30, seed=3)
    out = model(features, feature_attention_mask=mask)
    ff = out.frame_features
    spans = torch.tensor([[0, 0, 3], [0, 27, 30], [1, 1, 2], [1, 17, 20], [1, 8, 12]])
    got = model.pool_segments(ff, spans, mask)
    windows = [(0, 0, 7), (0, 23, 30), (1, 0, 6), (1, 13, 20), (1, 4, 16)]  # clipped by hand
    expected = torch.cat([model.pool_frames(ff[b : b + 1, lo:hi]) for b, lo, hi in windows])
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)
    # item 1's padded frames 20..29 never enter, even with a huge margin
    wide = model.pool_segments(ff, torch.tensor([[1, 17, 20]]), mask, context_frames=100)
    torch.testing.assert_close(wide, out.embeddings[1:2], atol=ATOL, rtol=0)
    # a whole-utterance span without margin is the utterance embedding
    whole = model.pool_segments(ff, torch.tensor([[0, 0, 30], [1, 0, 20]]), mask, context_frames=0)
    torch.testing.assert_close(whole, out.embeddings, atol=ATOL, rtol=0)
    assert not torch.allclose(got[4], model.pool_segments(ff, spans[4:], mask, context_frames=0)[0])


def test_split_global_context_equals_concatenation():
    """The pooling's split 1x1 conv equals the textbook conv over [x; mean; std] (eval mode)."""
    model = make_model()
    pool = model.asp
    frames = torch.randn(3, 192, 17)
    mask = torch.ones(3, 17)
    mask[1, 9:] = 0
    stats_weights = (mask / mask.sum(-1, keepdim=True)).unsqueeze(1)
    mean, std = weighted_statistics(frames, stats_weights)
    concatenated = torch.cat([frames, mean[..., None].expand(-1, -1, 17), std[..., None].expand(-1, -1, 17)], 1)
    attention = torch.tanh(pool.tdnn.norm(torch.relu(pool.tdnn.conv(concatenated))))
    logits = pool.conv(attention).masked_fill(mask[:, None] == 0, float("-inf"))
    expected = torch.cat(weighted_statistics(frames, logits.softmax(-1)), -1)
    torch.testing.assert_close(pool(frames, mask), expected, atol=ATOL, rtol=0)


def test_masked_batch_norm_matches_torch_on_real_frames():
    torch.manual_seed(0)
    ours, reference = MaskedBatchNorm1d(6), torch.nn.BatchNorm1d(6)
    x = torch.randn(3, 6, 10) * 3 + 1
    mask = torch.ones(3, 10)
    mask[0, 4:] = 0
    mask[2, 7:] = 0
    x_padded = x.masked_fill(mask[:, None] == 0, 1e3)
    real = torch.cat([x[i, :, : int(mask[i].sum())] for i in range(3)], dim=1).unsqueeze(0)  # (1, 6, n)
    y = ours(x_padded, mask)
    y_ref = reference(real)
    got = torch.cat([y[i, :, : int(mask[i].sum())] for i in range(3)], dim=1).unsqueeze(0)
    torch.testing.assert_close(got, y_ref, atol=ATOL, rtol=0)
    torch.testing.assert_close(ours.running_mean, reference.running_mean)
    torch.testing.assert_close(ours.running_var, reference.running_var)


# ---------------------------------------------------------------------------------- training
# ---------------------------------------------------------------------------------- errors
def test_errors():
    model = make_model()
    features, mask = padded_batch([20, 12], 20)

    def spans(*rows):
        return torch.tensor(rows)

    cases = [
        (spans([0, 5, 5]), "empty span"),
        (spans([0, 6, 4]), "empty span"),
        (spans([0, -1, 4]), "start before"),
        (spans([1, 5, 13]), "past the item"),  # item 1 has 12 real frames
        (spans([2, 0, 4]), "batch index"),
        (spans([-1, 0, 4]), "batch index"),
        (torch.tensor([[0.0, 1.0, 2.0]]), "integers"),
        (torch.tensor([0, 1, 2]), r"\(N, 3\)"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            model(features, feature_attention_mask=mask, segment_spans=bad)
    with pytest.raises(ValueError, match="input_features"):
        model(torch.randn(2, 20, 40))
    with pytest.raises(ValueError, match="input_features"):
        model(torch.randn(20, 80))
    with pytest.raises(ValueError, match="right-padded"):
        model(features, feature_attention_mask=mask.flip(-1))
    with pytest.raises(ValueError, match="without real frames"):
        model(features, feature_attention_mask=torch.zeros_like(mask))
    with pytest.raises(ValueError, match="feature_attention_mask must be"):
        model(features, feature_attention_mask=mask[:, :10])
    with pytest.raises(ValueError, match="disagree"):
        model(features, feature_attention_mask=mask, attention_mask=torch.ones_like(mask))
    with pytest.raises(ValueError, match="context_frames"):
        model.pool_segments(torch.randn(1, 10, 192), spans([0, 0, 3]), context_frames=-1)


def test_a_single_utterance_trains_with_running_statistics_in_the_embedding_norm():
    torch.manual_seed(0)
    model = EcapaTdnnModel(EcapaTdnnConfig.tiny())
    with torch.no_grad():
        model.asp_bn.running_mean.normal_()
        model.asp_bn.running_var.uniform_(0.5, 2.0)
    features = torch.randn(1, 40, model.config.num_mel_bins)
    model.train()
    trained = model(features, return_dict=True).embeddings  # nn.BatchNorm1d alone refuses one row
    trained.sum().backward()
    assert torch.isfinite(trained).all() and model.fc.weight.grad is not None
    running = model.asp_bn.running_mean.clone()
    model(features)
    assert torch.equal(model.asp_bn.running_mean, running)  # one row does not update the statistics


def test_too_few_frames_in_train_mode_is_refused_once_per_forward():
    model = EcapaTdnnModel(EcapaTdnnConfig.tiny()).train()
    norms = [m for m in model.modules() if isinstance(m, MaskedBatchNorm1d)]
    assert norms and not any(norm.check_frame_count for norm in norms)  # the model checks, not every layer
    with pytest.raises(ValueError, match="at least 2 real frames"):
        model(torch.randn(1, 1, model.config.num_mel_bins))
    standalone = MaskedBatchNorm1d(4).train()
    with pytest.raises(ValueError, match="at least 2 real frames"):
        standalone(torch.randn(1, 4, 3), torch.tensor([[1.0, 0.0, 0.0]]))
