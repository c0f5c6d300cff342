"""encode() and the feature-extraction pipeline: alignment, padding, speakers, model forms, pipeline routes."""

import numpy as np
import pytest
import torch
from transformers import AutoProcessor, pipeline

from prosody_tts import (
    DualStreamConfig,
    DualStreamForMaskedLM,
    DualStreamModel,
    ProsodyContrastiveConfig,
    ProsodyContrastiveModel,
)
from prosody_tts.modeling.layers import AdaLNZeroModulation, WordFusion
from prosody_tts.pipelines.encode import EncodedPhonemes, encode
from prosody_tts.pipelines.feature_extraction import (
    PIPELINE_TASK,
    PhonemeFeatureExtractionPipeline,
    feature_extraction_pipeline,
)
from prosody_tts.text.errors import EmptyTextError, UnsupportedCharacterError
from prosody_tts.text.inventory import PUNCTUATION, WORD_BOUNDARY

TEXTS = [
    "Привет, мир!",
    "В 2025 году — дождь; а ты как?",
    "Кто-нибудь знает, где мой зонт… Нет?",
]
NUM_SPEAKERS = 3


def open_zero_inits(model: torch.nn.Module, seed: int = 0, std: float = 0.2) -> torch.nn.Module:
    """Make the AdaLN-Zero modulations and the fusion projection non-zero (at init the speaker has no effect)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (AdaLNZeroModulation, WordFusion)):
                for param in module.parameters():
                    param.copy_(torch.randn(param.shape, generator=generator) * std)
    return model


@pytest.fixture(scope="module")
def model() -> DualStreamModel:
    torch.manual_seed(0)
    config = DualStreamConfig.tiny(num_speakers=NUM_SPEAKERS)
    return open_zero_inits(DualStreamModel(config)).eval()


def reference(model: DualStreamModel, processor, text: str, **speaker) -> torch.Tensor:
    """The model's (P, H) output for one text, without <s>/</s>, straight from the processor."""
    batch = processor(text=[text], return_tensors="pt")
    with torch.no_grad():
        return model(**batch, **speaker).last_hidden_state[0, 1:-1]


# ---------------------------------------------------------------------- shapes and alignment
def test_rows_align_with_phoneme_symbols(model, processor):
    out = encode(TEXTS, model, processor)
    assert isinstance(out, EncodedPhonemes) and len(out) == len(TEXTS)
    for index, text in enumerate(TEXTS):
        phonemized = processor.phonemize(text)
        assert out.phonemes[index] == phonemized.phonemes
        assert out.phoneme_word_ids[index] == phonemized.phoneme_word_ids
        assert out.embeddings[index].shape == (len(phonemized.phonemes), model.config.hidden_size)
        torch.testing.assert_close(
            out.embeddings[index], reference(model, processor, text), rtol=0, atol=1e-5
        )
    symbols = {s for row in out.phonemes for s in row}
    assert WORD_BOUNDARY in symbols and {",", "!", "—", ";", "?", "…"} <= symbols & set(PUNCTUATION)
    assert out.lengths == [len(row) for row in out.phonemes]


def test_single_string_no_phonemes_and_plain_tensors(model, processor):
    out = encode(TEXTS[0], model, processor, return_phonemes=False)
    assert len(out) == 1 and out.phonemes is None and out.phoneme_word_ids is None
    embedding = out.embeddings[0]
    assert not embedding.is_inference()  # usable as input of a model that trains
    head = torch.nn.Linear(embedding.shape[-1], 2)
    head(embedding).sum().backward()
    assert head.weight.grad is not None


def test_padded(model, processor):
    out = encode(TEXTS, model, processor)
    states, mask = out.padded()
    longest = max(out.lengths)
    assert states.shape == (len(TEXTS), longest, model.config.hidden_size)
    assert mask.dtype == torch.bool and mask.sum(1).tolist() == out.lengths
    for index, embedding in enumerate(out.embeddings):
        torch.testing.assert_close(states[index, : len(embedding)], embedding, rtol=0, atol=0)
        assert bool(states[index, len(embedding) :].eq(0).all())


def test_padding_invariance(model, processor):
    short, long = TEXTS[0], TEXTS[2]
    alone = encode(short, model, processor, speaker=1).embeddings[0]
    batched = encode([long, short], model, processor, speaker=1, batch_size=2).embeddings[1]
    torch.testing.assert_close(batched, alone, rtol=0, atol=1e-5)
    one_by_one = encode(TEXTS, model, processor, batch_size=1).embeddings
    together = encode(TEXTS, model, processor, batch_size=16).embeddings
    for a, b in zip(one_by_one, together, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_eval_mode_and_training_state_restored(processor):
    torch.manual_seed(1)
    model = DualStreamModel(DualStreamConfig.tiny(hidden_dropout=0.5))
    model.train()
    first = encode(TEXTS[0], model, processor).embeddings[0]
    second = encode(TEXTS[0], model, processor).embeddings[0]
    torch.testing.assert_close(first, second, rtol=0, atol=0)  # no dropout: eval mode
    assert model.training


# ---------------------------------------------------------------------- speakers
def test_speaker_changes_embeddings(model, processor):
    null = encode(TEXTS[0], model, processor).embeddings[0]
    torch.testing.assert_close(null, reference(model, processor, TEXTS[0]), rtol=0, atol=1e-5)
    row1 = encode(TEXTS[0], model, processor, speaker=1).embeddings[0]
    row2 = encode(TEXTS[0], model, processor, speaker=np.int64(2)).embeddings[0]
    assert (null - row1).abs().max() > 1e-3 and (row1 - row2).abs().max() > 1e-3
    torch.testing.assert_close(
        row1, reference(model, processor, TEXTS[0], speaker_ids=torch.tensor([1])), rtol=0, atol=1e-5
    )

    embed = torch.randn(model.config.external_speaker_dim, generator=torch.Generator().manual_seed(0))
    external = encode(TEXTS[0], model, processor, speaker=embed).embeddings[0]
    assert (external - null).abs().max() > 1e-3
    torch.testing.assert_close(
        external, reference(model, processor, TEXTS[0], speaker_embeds=embed[None]), rtol=0, atol=1e-5
    )
    from_numpy = encode(TEXTS[0], model, processor, speaker=embed.numpy()[None]).embeddings[0]  # (1, D)
    torch.testing.assert_close(from_numpy, external, rtol=0, atol=0)


def test_one_speaker_per_text(model, processor):
    embed = torch.randn(model.config.external_speaker_dim, generator=torch.Generator().manual_seed(1))
    speakers = [None, 2, embed]
    mixed = encode(TEXTS, model, processor, speaker=speakers, batch_size=3).embeddings
    for text, speaker, got in zip(TEXTS, speakers, mixed, strict=True):
        torch.testing.assert_close(
            got, encode(text, model, processor, speaker=speaker).embeddings[0], rtol=0, atol=1e-5
        )
    rows = torch.stack([embed, -embed, 2 * embed])  # (N, D): one row per text
    per_row = encode(TEXTS, model, processor, speaker=rows).embeddings
    torch.testing.assert_close(per_row[1], encode(TEXTS[1], model, processor, speaker=-embed).embeddings[0])


@pytest.mark.parametrize(
    ("speaker", "error", "match"),
    [
        (NUM_SPEAKERS, ValueError, r"outside the speaker table \[0, 3\)"),
        (-1, ValueError, "outside the speaker table"),
        (torch.zeros(5), ValueError, r"shape \(32,\)"),
        (torch.zeros(2, 32), ValueError, "2 embedding rows but there are 1 texts"),
        (torch.full((32,), float("nan")), ValueError, "NaN"),
        (torch.zeros(32, dtype=torch.long), TypeError, "float speaker embedding"),
        ([1, 2], ValueError, "list of 2 but there are 1 texts"),
        (True, TypeError, "bool"),
        ("alice", TypeError, "speaker must be None"),
    ],
)
def test_bad_speaker(model, processor, speaker, error, match):
    with pytest.raises(error, match=match):
        encode(TEXTS[0], model, processor, speaker=speaker)


def test_speaker_id_without_table(processor):
    model = DualStreamModel(DualStreamConfig.tiny())  # num_speakers=0
    with pytest.raises(ValueError, match="no speaker table"):
        encode(TEXTS[0], model, processor, speaker=0)
    no_external = DualStreamModel(DualStreamConfig.tiny(external_speaker_dim=0))
    with pytest.raises(ValueError, match="external_speaker_dim=0"):
        encode(TEXTS[0], no_external, processor, speaker=torch.zeros(32))


# ---------------------------------------------------------------------- model forms
def test_contrastive_model_uses_text_model_and_its_speaker_source(processor):
    torch.manual_seed(2)
    contrastive = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())  # speaker_source="audio"
    open_zero_inits(contrastive.text_model)
    embed = torch.randn(contrastive.config.text_config.external_speaker_dim)
    got = encode(TEXTS[:2], contrastive, processor, speaker=embed).embeddings
    expected = encode(TEXTS[:2], contrastive.text_model, processor, speaker=embed).embeddings
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="speaker_source='audio'"):
        encode(TEXTS[0], contrastive, processor, speaker=0)
    text_only = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny(speaker_source="none"))
    with pytest.raises(ValueError, match="speaker_source='none'"):
        encode(TEXTS[0], text_only, processor, speaker=embed)


def test_model_given_as_path(tmp_path, model, processor):
    model.save_pretrained(tmp_path / "encoder")
    from_path = encode(TEXTS, str(tmp_path / "encoder"), processor).embeddings
    for a, b in zip(from_path, encode(TEXTS, model, processor).embeddings, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)

    torch.manual_seed(3)
    contrastive = ProsodyContrastiveModel(ProsodyContrastiveConfig.tiny())
    contrastive.save_pretrained(tmp_path / "contrastive")
    torch.testing.assert_close(
        encode(TEXTS[0], tmp_path / "contrastive", processor).embeddings[0],
        encode(TEXTS[0], contrastive.text_model, processor).embeddings[0],
        rtol=0,
        atol=1e-6,
    )


def test_mlm_model_and_its_checkpoint(tmp_path, processor):
    torch.manual_seed(4)
    mlm = DualStreamForMaskedLM(DualStreamConfig.tiny()).eval()  # mlm_before_fusion: no fusion part
    expected = encode(TEXTS[1], mlm, processor).embeddings[0]
    torch.testing.assert_close(expected, reference(mlm.dual_stream, processor, TEXTS[1]), rtol=0, atol=1e-5)
    mlm.save_pretrained(tmp_path)
    # loaded as DualStreamForMaskedLM, not AutoModel (which would add untrained fusion layers)
    torch.testing.assert_close(
        encode(TEXTS[1], tmp_path, processor).embeddings[0], expected, rtol=0, atol=1e-6
    )


def test_bad_model_and_texts(model, processor):
    with pytest.raises(TypeError, match="model must be"):
        encode(TEXTS[0], torch.nn.Linear(2, 2), processor)
    with pytest.raises(TypeError, match="processor must be"):
        encode(TEXTS[0], model, processor.tokenizer)
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str"):
        encode(["Привет", 3], model, processor)
    with pytest.raises(ValueError, match="empty list"):
        encode([], model, processor)
    with pytest.raises(ValueError, match="batch_size"):
        encode(TEXTS, model, processor, batch_size=0)


def test_frontend_error_names_the_text(model, processor):
    with pytest.raises(UnsupportedCharacterError, match=r"^text 2 .*unsupported character") as info:
        encode(["Привет.", "Пока.", "Смайлик 😀 тут"], model, processor)
    assert info.value.char == "😀"
    with pytest.raises(EmptyTextError, match=r"^text 1 "):
        encode(["Привет.", "  ?! "], model, processor)


# ---------------------------------------------------------------------- pipelines
def test_stock_feature_extraction_pipeline(model, processor):
    """The stock pipeline takes the processor as tokenizer: batch_size=1, rows include <s> and </s>."""
    extractor = pipeline("feature-extraction", model=model, tokenizer=processor, device="cpu")
    expected = encode(TEXTS, model, processor).embeddings
    for text, embedding in zip(TEXTS, expected, strict=True):
        features = extractor(text, return_tensors=True)
        assert features.shape == (1, len(embedding) + 2, model.config.hidden_size)
        torch.testing.assert_close(features[0, 1:-1], embedding, rtol=0, atol=1e-5)
    assert len(extractor(TEXTS[0])[0]) == len(expected[0]) + 2  # nested lists by default
    with pytest.raises(AttributeError, match="pad_token_id"):  # its collate needs a tokenizer's pad id
        extractor(TEXTS, batch_size=2)


def test_phoneme_pipeline_equals_encode(model, processor):
    extractor = feature_extraction_pipeline(model, processor)
    assert isinstance(extractor, PhonemeFeatureExtractionPipeline)
    for speaker in (None, 2):
        expected = encode(TEXTS, model, processor, speaker=speaker).embeddings
        for batch_size in (1, 2):
            got = extractor(TEXTS, return_tensors=True, batch_size=batch_size, speaker=speaker)
            for a, b in zip(got, expected, strict=True):
                torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    as_lists = extractor(TEXTS[0])
    assert isinstance(as_lists, list) and len(as_lists) == len(expected[0])
    with pytest.raises(ValueError, match="one speaker per call"):
        extractor(TEXTS, speaker=[0, 1, 2])
    with pytest.raises(ValueError, match="outside the speaker table"):
        extractor(TEXTS[0], speaker=7)


def test_saved_directory_in_pipelines(tmp_path, model, processor):
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    expected = encode(TEXTS, model, processor).embeddings

    # plain task: AutoTokenizer resolves the bare PhonemeTokenizer, whose `input_ids` the model does not take
    plain = pipeline("feature-extraction", model=str(tmp_path))
    assert type(plain.tokenizer).__name__ == "PhonemeTokenizer"
    with pytest.raises(TypeError, match="input_ids"):
        plain(TEXTS[0])

    # what works: the registered task (AutoModel + AutoProcessor from the directory) ...
    for extractor in (
        pipeline(PIPELINE_TASK, model=str(tmp_path)),
        pipeline("feature-extraction", model=str(tmp_path), pipeline_class=PhonemeFeatureExtractionPipeline),
        feature_extraction_pipeline(str(tmp_path)),
    ):
        assert isinstance(extractor, PhonemeFeatureExtractionPipeline)
        extractor.processor.frontend = processor.frontend  # reuse the loaded stress model
        got = extractor(TEXTS, return_tensors=True, batch_size=2)
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)

    # ... or the stock pipeline given the saved processor as its tokenizer
    loaded = AutoProcessor.from_pretrained(tmp_path)
    loaded.frontend = processor.frontend
    stock = pipeline("feature-extraction", model=str(tmp_path), tokenizer=loaded)
    torch.testing.assert_close(stock(TEXTS[0], return_tensors=True)[0, 1:-1], expected[0], rtol=0, atol=1e-5)


def test_pipeline_needs_a_processor(model):
    with pytest.raises(ValueError, match="needs a DualStreamProcessor"):
        pipeline(PIPELINE_TASK, model=model)
    with pytest.raises(ValueError, match="give the processor"):
        feature_extraction_pipeline(model)


def test_text_too_long_names_the_text(processor):
    short_model = DualStreamModel(DualStreamConfig.tiny(max_position_embeddings=16))
    with pytest.raises(ValueError, match=r"text 1 gives \d+ phoneme tokens .*max_position_embeddings \(16\)"):
        encode(["Да.", TEXTS[2]], short_model, processor, device="cpu")
