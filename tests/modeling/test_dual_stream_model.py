"""Tests of the dual-stream encoder (tiny config, CPU, a few seconds)."""

from __future__ import annotations

import doctest

import pytest
import torch
import torch.nn.functional as F
from model_tester import ModelTesterMixin, tiny_text_batch

from prosody_tts.configuration import DualStreamConfig
from prosody_tts.modeling import (
    AdaLNZeroModulation,
    DualStreamForMaskedLM,
    DualStreamModel,
    WordFusion,
)
from prosody_tts.modeling import dual_stream as dual_stream_module
from prosody_tts.modeling import layers as layers_module
from prosody_tts.modeling.layers import pool_words_to_phonemes

NUM_SPEAKERS = 3


def tiny_config(**overrides) -> DualStreamConfig:
    values = dict(num_speakers=NUM_SPEAKERS, hidden_dropout=0.0)
    values.update(overrides)
    return DualStreamConfig.tiny(**values)


def make_batch(config: DualStreamConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Two examples of different lengths, right-padded, with processor-like word ids."""
    return tiny_text_batch(config.phoneme_vocab_size, config.bpe_vocab_size, seed)


def randomise_zero_inits(model: torch.nn.Module, std: float = 0.05) -> None:
    """Make AdaLN modulations and the fusion projection non-zero, so the blocks are not the identity."""
    generator = torch.Generator().manual_seed(123)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (AdaLNZeroModulation, WordFusion)):
                for param in module.parameters():
                    param.copy_(torch.randn(param.shape, generator=generator) * std)


def modulation_params(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p for m in model.modules() if isinstance(m, AdaLNZeroModulation) for p in m.parameters()]


# ---------------------------------------------------------------------- the shared checks
_ZERO_INIT = {
    r"\.modulation\.": "AdaLN-Zero modulations: every block starts as the identity",
    r"fusion\.projection\.": "word fusion adds nothing at first (stage 2 starts from stage 1's encoder)",
}


class _DualStreamTester(ModelTesterMixin):
    zero_init = _ZERO_INIT
    config_overrides: dict = {}

    def get_config(self) -> DualStreamConfig:
        return tiny_config(**self.config_overrides)

    def get_inputs(self, config: DualStreamConfig, seed: int = 0) -> dict:
        batch = make_batch(config, seed)
        return {**batch, "speaker_ids": torch.tensor([1, -1])}  # a table speaker and the null vector

    def training_inputs(self, config: DualStreamConfig) -> list[dict]:
        with_embeds = {key: value for key, value in self.get_inputs(config).items() if key != "speaker_ids"}
        with_embeds["speaker_embeds"] = torch.randn(2, config.external_speaker_dim, generator=torch.Generator().manual_seed(1))
        return [self.get_inputs(config), with_embeds]

    def padded_inputs(self, config: DualStreamConfig):
        padded = {key: value for key, value in self.get_inputs(config).items() if not key.endswith("labels")}
        phonemes, bpe = int(padded["phoneme_attention_mask"][1].sum()), int(padded["bpe_attention_mask"][1].sum())
        short = {
            key: value[1:, : (bpe if key.startswith("bpe") else phonemes)] if value.dim() == 2 else value[1:]
            for key, value in padded.items()
        }

        def compare(alone, in_batch):
            key = "phoneme_logits" if "phoneme_logits" in alone else "last_hidden_state"
            torch.testing.assert_close(alone[key][0], in_batch[key][1, :phonemes], atol=1e-5, rtol=1e-5)

        return short, padded, compare


class TestDualStreamModel(_DualStreamTester):
    model_class = DualStreamModel

    def loss_of(self, output):
        return output.last_hidden_state.pow(2).mean() + output.bpe_last_hidden_state.pow(2).mean()


class TestDualStreamForMaskedLM(_DualStreamTester):
    """Per-stream MLM (the default): the fusion part is not built, so nothing is left untrained."""

    model_class = DualStreamForMaskedLM

    def get_inputs(self, config: DualStreamConfig, seed: int = 0) -> dict:
        batch = super().get_inputs(config, seed)
        batch["phoneme_labels"] = batch["phoneme_input_ids"].masked_fill(batch["phoneme_attention_mask"] == 0, -100)
        batch["bpe_labels"] = batch["bpe_input_ids"].masked_fill(batch["bpe_attention_mask"] == 0, -100)
        return batch


class TestDualStreamForMaskedLMAfterFusion(TestDualStreamForMaskedLM):
    """MLM on the fused output: the fusion part is built and trained."""

    config_overrides = {"mlm_before_fusion": False}


# ---------------------------------------------------------------------- config
def test_config_presets_and_values(tmp_path):
    config = tiny_config(speaker_dropout=0.2, mlm_before_fusion=False, position_embedding_type="sinusoidal")
    config.save_pretrained(tmp_path)
    loaded = DualStreamConfig.from_pretrained(tmp_path)
    assert loaded.speaker_dropout == 0.2 and loaded.mlm_before_fusion is False

    base = DualStreamConfig()
    assert (base.hidden_size, base.num_attention_heads, base.intermediate_size) == (384, 6, 1536)
    assert (base.phoneme_layers, base.bpe_layers, base.fusion_layers, base.speaker_embedding_dim) == (
        6,
        6,
        2,
        192,
    )
    assert (
        base.tie_word_embeddings is False and base.mlm_before_fusion is True and base.speaker_dropout == 0.0
    )


@pytest.mark.parametrize(
    "overrides",
    [
        dict(hidden_size=66, num_attention_heads=4),
        dict(speaker_dropout=1.5),
        dict(position_embedding_type="alibi"),
    ],
)
def test_config_rejects_bad_values(overrides):
    with pytest.raises(ValueError):
        DualStreamConfig.tiny(**overrides)


# ---------------------------------------------------------------------- init and serialisation
def test_init_weights_zero_adaln_and_fusion():
    config = tiny_config()
    for model in (
        DualStreamModel(config),
        DualStreamModel._from_config(config),
        DualStreamForMaskedLM(config),
        DualStreamForMaskedLM._from_config(config),
    ):
        encoder = model if isinstance(model, DualStreamModel) else model.dual_stream
        fusion_layers = config.fusion_layers if encoder.add_fusion else 0  # per-stream MLM builds no fusion
        params = modulation_params(model)
        assert len(params) == 2 * (config.phoneme_layers + fusion_layers)
        assert all(bool(p.eq(0).all()) for p in params)
        if encoder.add_fusion:
            assert bool(encoder.fusion.projection.weight.eq(0).all())
            assert bool(encoder.fusion.projection.bias.eq(0).all())
        assert bool(encoder.phoneme_embeddings.weight[config.pad_token_id].eq(0).all())
        # the rest follows normal(0, initializer_range)
        std = encoder.bpe_layers[0].attention.query.weight.std().item()
        assert 0.5 * config.initializer_range < std < 1.5 * config.initializer_range
        assert encoder.speaker.null_embedding.abs().sum() > 0


def test_save_load_identical_outputs_and_no_reinit(tmp_path):
    config = tiny_config()
    model = DualStreamForMaskedLM(config).eval()
    randomise_zero_inits(model)  # trained-looking weights: loading must not zero them again
    batch = make_batch(config)
    speaker_ids = torch.tensor([1, -1])
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = DualStreamForMaskedLM.from_pretrained(tmp_path).eval()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    with torch.no_grad():
        expected = model(**batch, speaker_ids=speaker_ids)
        got = loaded(**batch, speaker_ids=speaker_ids)
    assert torch.equal(expected.phoneme_logits, got.phoneme_logits)
    assert torch.equal(expected.bpe_logits, got.bpe_logits)

    # the full encoder loads from the MLM checkpoint through base_model_prefix: both streams come
    # from stage 1, the fusion part (not built in per-stream MLM) starts fresh
    encoder = DualStreamModel.from_pretrained(tmp_path).eval()
    assert encoder.add_fusion and not model.dual_stream.add_fusion
    with torch.no_grad():
        streams = encoder(**batch, speaker_ids=speaker_ids)
        reference = model.dual_stream(**batch, speaker_ids=speaker_ids)
    assert torch.equal(streams.phoneme_stream_last_hidden_state, reference.phoneme_stream_last_hidden_state)
    assert torch.equal(streams.bpe_last_hidden_state, reference.bpe_last_hidden_state)


def test_tied_embeddings_only_when_asked(tmp_path):
    untied = DualStreamForMaskedLM(tiny_config())
    assert untied.phoneme_head.decoder.weight is not untied.dual_stream.phoneme_embeddings.weight
    tied = DualStreamForMaskedLM(tiny_config(tie_word_embeddings=True))
    assert tied.phoneme_head.decoder.weight is tied.dual_stream.phoneme_embeddings.weight
    assert tied.bpe_head.decoder.weight is tied.dual_stream.bpe_embeddings.weight
    tied.save_pretrained(tmp_path)
    reloaded = DualStreamForMaskedLM.from_pretrained(tmp_path)
    assert reloaded.bpe_head.decoder.weight is reloaded.dual_stream.bpe_embeddings.weight
    assert torch.equal(reloaded.bpe_head.decoder.weight, tied.bpe_head.decoder.weight)


# ---------------------------------------------------------------------- AdaLN-Zero
def test_adaln_zero_identity_at_init_then_speaker_matters():
    torch.manual_seed(0)
    config = tiny_config()
    model = DualStreamModel(config)
    batch = make_batch(config)

    def outputs(speakers):
        model.eval()
        with torch.no_grad():
            return model(**batch, speaker_ids=torch.tensor(speakers)).last_hidden_state

    assert torch.equal(outputs([0, 0]), outputs([1, 2]))
    assert torch.equal(outputs([0, 0]), outputs([-1, -1]))  # = the null condition

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = model(**batch, speaker_ids=torch.tensor([0, 1])).last_hidden_state.pow(3).mean()
    loss.backward()
    optimizer.step()
    assert not torch.allclose(outputs([0, 0]), outputs([1, 2]))


def test_speaker_dropout_replaces_condition_by_null_in_training_only():
    config = tiny_config(speaker_dropout=1.0)
    model = DualStreamModel(config)
    randomise_zero_inits(model)
    batch = make_batch(config)
    model.train()
    with torch.no_grad():
        dropped = model(**batch, speaker_ids=torch.tensor([0, 1])).last_hidden_state
        null = model(**batch).last_hidden_state
        model.eval()
        kept = model(**batch, speaker_ids=torch.tensor([0, 1])).last_hidden_state
    assert torch.allclose(dropped, null, atol=1e-6)
    assert not torch.allclose(kept, null, atol=1e-4)


# ---------------------------------------------------------------------- padding and fusion
@pytest.mark.parametrize("position_embedding_type", ["rotary", "sinusoidal"])
def test_padding_invariance(position_embedding_type):
    config = tiny_config(position_embedding_type=position_embedding_type)
    model = DualStreamModel(config).eval()
    randomise_zero_inits(model)
    batch = make_batch(config)
    extra = 5
    padded = {
        key: F.pad(value, (0, extra), value=-1 if key.endswith("word_ids") else 0)
        for key, value in batch.items()
    }
    speakers = torch.tensor([2, 0])
    with torch.no_grad():
        short = model(**batch, speaker_ids=speakers)
        long = model(**padded, speaker_ids=speakers)
        single = model(**{k: v[1:, : int(batch[k.split("_")[0] + "_attention_mask"][1].sum())] for k, v in batch.items()},
                       speaker_ids=speakers[1:])  # fmt: skip
    phonemes, bpe = batch["phoneme_input_ids"].shape[1], batch["bpe_input_ids"].shape[1]
    torch.testing.assert_close(
        long.last_hidden_state[:, :phonemes], short.last_hidden_state, atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        long.bpe_last_hidden_state[:, :bpe], short.bpe_last_hidden_state, atol=1e-5, rtol=0
    )
    assert long.last_hidden_state[:, phonemes:].abs().max() == 0  # padding is zeroed
    # example 1 (shorter) alone vs inside the padded batch
    length = int(batch["phoneme_attention_mask"][1].sum())
    torch.testing.assert_close(
        single.last_hidden_state[0], short.last_hidden_state[1, :length], atol=1e-5, rtol=0
    )
    length = int(batch["bpe_attention_mask"][1].sum())
    torch.testing.assert_close(
        single.bpe_last_hidden_state[0], short.bpe_last_hidden_state[1, :length], atol=1e-5, rtol=0
    )
    # the BPE stream really reaches the phonemes once the fusion projection is non-zero
    with torch.no_grad():
        alone = model(batch["phoneme_input_ids"], batch["phoneme_attention_mask"], speaker_ids=speakers)
    assert not torch.allclose(alone.last_hidden_state, short.last_hidden_state, atol=1e-4)


def test_word_pooling_matches_naive_loop():
    generator = torch.Generator().manual_seed(1)
    states = torch.randn(2, 7, 4, generator=generator)
    bpe_word_ids = torch.tensor([[-1, 0, 0, 1, 3, 3, -1], [-1, 0, 1, 1, 1, -1, -1]])
    phoneme_word_ids = torch.tensor([[-1, 0, 0, 1, -1, 2, 3, 3, -1], [-1, 1, 0, 0, -1, 1, 1, -1, -1]])
    pooled = pool_words_to_phonemes(states, bpe_word_ids, phoneme_word_ids)
    expected = torch.zeros(2, phoneme_word_ids.shape[1], 4)
    for b in range(2):
        for p, word in enumerate(phoneme_word_ids[b].tolist()):
            if word < 0:
                continue
            members = [states[b, t] for t, w in enumerate(bpe_word_ids[b].tolist()) if w == word]
            if members:  # word 2 of example 0 has no BPE token → zero
                expected[b, p] = torch.stack(members).mean(0)
    torch.testing.assert_close(pooled, expected)


# ---------------------------------------------------------------------- MLM
def test_mlm_loss_matches_manual_cross_entropy():
    config = tiny_config(phoneme_mlm_weight=0.7, bpe_mlm_weight=1.3)
    model = DualStreamForMaskedLM(config).eval()
    batch = make_batch(config)
    phoneme_labels = torch.full_like(batch["phoneme_input_ids"], -100)
    phoneme_labels[0, 1], phoneme_labels[0, 5], phoneme_labels[1, 2] = 11, 40, 7
    bpe_labels = torch.full_like(batch["bpe_input_ids"], -100)
    bpe_labels[0, 2], bpe_labels[1, 1] = 100, 2999
    with torch.no_grad():
        out = model(**batch, phoneme_labels=phoneme_labels, bpe_labels=bpe_labels)
    phoneme_ce = F.cross_entropy(out.phoneme_logits.flatten(0, 1), phoneme_labels.flatten())
    bpe_ce = F.cross_entropy(out.bpe_logits.flatten(0, 1), bpe_labels.flatten())
    torch.testing.assert_close(out.phoneme_loss, phoneme_ce)
    torch.testing.assert_close(out.bpe_loss, bpe_ce)
    torch.testing.assert_close(out.loss, 0.7 * phoneme_ce + 1.3 * bpe_ce)
    # one stream only: the loss is that stream's weighted loss; no labels: no loss
    with torch.no_grad():
        only = model(**batch, phoneme_labels=phoneme_labels)
        none = model(**batch)
    torch.testing.assert_close(only.loss, 0.7 * phoneme_ce)
    assert only.bpe_loss is None and none.loss is None
    # all labels ignored: a zero loss, not NaN
    with torch.no_grad():
        empty = model(**batch, phoneme_labels=torch.full_like(phoneme_labels, -100))
    assert empty.loss.item() == 0.0


def test_mlm_before_fusion_reads_the_phoneme_stream():
    config = tiny_config()
    model = DualStreamForMaskedLM(config).eval()
    randomise_zero_inits(model)
    batch = make_batch(config)
    with torch.no_grad():
        out = model(**batch)
        stream = model.dual_stream(**batch).phoneme_stream_last_hidden_state
        # phonemes only, no word ids needed before fusion
        phoneme_only = model(batch["phoneme_input_ids"], batch["phoneme_attention_mask"])
    real = batch["phoneme_attention_mask"].bool()
    torch.testing.assert_close(out.phoneme_logits[real], model.phoneme_head(stream)[real])
    torch.testing.assert_close(phoneme_only.phoneme_logits, out.phoneme_logits)


def test_a_fresh_model_leaves_the_speaker_null_vector_without_gradient_until_the_gates_open():
    """Zero-init gates block the block bodies and the speaker condition at step 0 (the shared
    tester's training step opens them first)."""
    torch.manual_seed(0)
    config = tiny_config()
    model = DualStreamForMaskedLM(config).train()
    batch = make_batch(config)
    labels = batch["phoneme_input_ids"].masked_fill(batch["phoneme_attention_mask"] == 0, -100)
    model(**batch, speaker_ids=torch.tensor([1, -1]), phoneme_labels=labels).loss.backward()
    grad = model.dual_stream.speaker.null_embedding.grad
    assert grad is None or not bool(grad.ne(0).any())


def test_gradient_checkpointing_gives_same_gradients():
    config = tiny_config()
    batch = make_batch(config)
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model = DualStreamModel(config).train()
        randomise_zero_inits(model)
        if checkpointing:
            model.activation_checkpointing_enable()
            assert (
                model.phoneme_layers[0].gradient_checkpointing and model.bpe_layers[0].gradient_checkpointing
            )
        model(**batch, speaker_ids=torch.tensor([0, 2])).last_hidden_state.pow(2).sum().backward()
        grads.append(model.phoneme_layers[0].attention.query.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


# ---------------------------------------------------------------------- outputs and errors
def test_hidden_states_attentions_and_tuple_output():
    config = tiny_config()
    model = DualStreamModel(config).eval()
    batch = make_batch(config)
    (batch_size, phonemes), bpe = batch["phoneme_input_ids"].shape, batch["bpe_input_ids"].shape[1]
    heads, hidden = config.num_attention_heads, config.hidden_size
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True, output_attentions=True)
    assert out.last_hidden_state.shape == (batch_size, phonemes, hidden)
    assert out.bpe_last_hidden_state.shape == (batch_size, bpe, hidden)
    assert len(out.hidden_states) == 1 + config.phoneme_layers + config.fusion_layers
    assert all(h.shape == (batch_size, phonemes, hidden) for h in out.hidden_states)
    assert len(out.attentions) == config.phoneme_layers + config.fusion_layers
    assert all(a.shape == (batch_size, heads, phonemes, phonemes) for a in out.attentions)
    assert len(out.bpe_hidden_states) == 1 + config.bpe_layers
    assert len(out.bpe_attentions) == config.bpe_layers
    assert all(a.shape == (batch_size, heads, bpe, bpe) for a in out.bpe_attentions)
    # attention rows sum to 1 and padded keys get nothing
    torch.testing.assert_close(out.attentions[0].sum(-1), torch.ones(batch_size, heads, phonemes))
    padded = batch["phoneme_attention_mask"] == 0
    padded_keys = padded[:, None, None, :].expand_as(out.attentions[0])  # (B, N, P, P) over keys
    assert out.attentions[0][padded_keys].abs().max() == 0
    # the explicit-attention path gives the same states as SDPA
    with torch.no_grad():
        plain = model(**batch)
    torch.testing.assert_close(plain.last_hidden_state, out.last_hidden_state, atol=1e-5, rtol=0)
    assert plain.hidden_states is None and plain.attentions is None
    as_tuple = model(**batch, return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], plain.last_hidden_state)

    mlm = DualStreamForMaskedLM(config).eval()
    with torch.no_grad():
        out = mlm(**batch, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 1 + config.phoneme_layers  # before fusion: the phoneme stream only
    assert len(out.bpe_attentions) == config.bpe_layers


def _bad(config, **changes):
    batch = make_batch(config)
    batch.update(changes)
    return batch


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b, c: dict(phoneme_input_ids=b["phoneme_input_ids"] + c.phoneme_vocab_size), "outside"),
        (lambda b, c: dict(bpe_input_ids=b["bpe_input_ids"].clone().fill_(-3)), "outside"),
        (lambda b, c: dict(phoneme_input_ids=b["phoneme_input_ids"][0]), r"\(batch, length\)"),
        (lambda b, c: dict(phoneme_input_ids=b["phoneme_input_ids"].float()), "integer"),
        (lambda b, c: dict(phoneme_attention_mask=b["phoneme_attention_mask"][:, :-1]), "shape"),
        (lambda b, c: dict(bpe_word_ids=b["bpe_word_ids"][:, :-1]), "shape"),
        (
            lambda b, c: dict(
                bpe_input_ids=b["bpe_input_ids"][:1], bpe_attention_mask=None, bpe_word_ids=None
            ),
            "batch",
        ),
        (lambda b, c: dict(phoneme_word_ids=b["phoneme_word_ids"].clone().fill_(-2)), "word index"),
        (lambda b, c: dict(bpe_word_ids=b["bpe_word_ids"].clone().fill_(99)), "word index"),
        (lambda b, c: dict(bpe_word_ids=None), "needs both"),
        (lambda b, c: dict(bpe_input_ids=None, bpe_attention_mask=None), "without bpe_input_ids"),
        (
            lambda b, c: dict(phoneme_attention_mask=torch.zeros_like(b["phoneme_attention_mask"])),
            "no real token",
        ),
        (lambda b, c: dict(speaker_ids=torch.tensor([0, 1]), speaker_embeds=torch.zeros(2, 32)), "not both"),
        (lambda b, c: dict(speaker_ids=torch.tensor([0, NUM_SPEAKERS])), "speaker_ids"),
        (lambda b, c: dict(speaker_ids=torch.tensor([0])), "speaker_ids"),
        (lambda b, c: dict(speaker_embeds=torch.zeros(2, 5)), "speaker_embeds"),
    ],
)
def test_bad_inputs_raise_clear_errors(change, message):
    config = tiny_config()
    model = DualStreamModel(config)
    batch = make_batch(config)
    batch.update(change(batch, config))
    with pytest.raises((ValueError, TypeError), match=message):
        model(**batch)


def test_other_errors():
    config = tiny_config(max_position_embeddings=8)
    batch = make_batch(config)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        DualStreamModel(config)(**batch)
    no_table = DualStreamModel(DualStreamConfig.tiny())
    batch = make_batch(no_table.config)
    with pytest.raises(ValueError, match="num_speakers=0"):
        no_table(**batch, speaker_ids=torch.tensor([0, 0]))
    mlm = DualStreamForMaskedLM(tiny_config())
    with pytest.raises(ValueError, match="shape"):
        mlm(**batch, phoneme_labels=batch["phoneme_input_ids"][:, :-1])
    with pytest.raises(ValueError, match="without bpe_input_ids"):
        mlm(batch["phoneme_input_ids"], bpe_labels=batch["bpe_input_ids"])


# ---------------------------------------------------------------------- sizes and docs
def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts(capsys):
    with torch.device("meta"):  # sizes only: no memory, no init time
        counts = {
            name: (_count(DualStreamModel(config)), _count(DualStreamForMaskedLM(config)))
            for name, config in (("tiny", DualStreamConfig.tiny()), ("base", DualStreamConfig()))
        }
    with capsys.disabled():
        for name, (encoder, mlm) in counts.items():
            print(f"\n{name}: DualStreamModel {encoder:,} parameters, DualStreamForMaskedLM {mlm:,}")
    assert counts["tiny"][0] < 1_000_000 and counts["tiny"][1] < 1_000_000  # MLM heads included
    # base: 6+6+2 blocks of width 384 (~1.8M each, ~2.3M with AdaLN) + two embedding tables ≈ 31.7M
    assert 25_000_000 < counts["base"][0] < 40_000_000


@pytest.mark.parametrize("module", [layers_module, dual_stream_module])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_text_only_training_step_leaves_no_parameter_without_gradient():
    """DDP safety: a text-only batch (null speaker) still reaches the speaker table and projection."""
    config = tiny_config(num_speakers=3)
    model = DualStreamForMaskedLM(config).train()
    batch = make_batch(config)
    labels = batch["phoneme_input_ids"].masked_fill(batch["phoneme_attention_mask"] == 0, -100)
    bpe_labels = batch["bpe_input_ids"].masked_fill(batch["bpe_attention_mask"] == 0, -100)
    model(**batch, phoneme_labels=labels, bpe_labels=bpe_labels).loss.backward()
    assert [name for name, p in model.named_parameters() if p.grad is None] == []
    speaker = model.dual_stream.speaker
    assert speaker.speaker_table.weight.grad.abs().sum() == 0  # in the graph, zero contribution
