"""Stage-1 MLM collator: masking statistics, 80/10/10, specials never touched, whole words."""

import pytest
import torch

from prosody_tts.constants import IGNORE_INDEX
from prosody_tts.data.mlm import DualStreamMLMCollator

PAD, UNK, BOS, EOS, MASK = 0, 1, 2, 3, 4
SPECIALS = [PAD, UNK, BOS, EOS, MASK]
VOCAB = 50


def _collator(**kwargs) -> DualStreamMLMCollator:
    return DualStreamMLMCollator(
        phoneme_special_ids=SPECIALS,
        bpe_special_ids=SPECIALS,
        phoneme_vocab_size=VOCAB,
        bpe_vocab_size=VOCAB,
        phoneme_mask_id=MASK,
        bpe_mask_id=MASK,
        generator=torch.Generator().manual_seed(0),
        **kwargs,
    )


def _examples(count: int, length: int = 40) -> list[dict]:
    generator = torch.Generator().manual_seed(1)
    examples = []
    for index in range(count):
        n = length - (index % 7)  # ragged: padding in the batch
        body = torch.randint(5, VOCAB, (n - 2,), generator=generator).tolist()
        words = [i // 4 for i in range(n - 2)]  # words of 4 tokens
        examples.append(
            {
                "phoneme_input_ids": [BOS, *body, EOS],
                "phoneme_word_ids": [-1, *words, -1],
                "bpe_input_ids": [BOS, *body[: n // 2], EOS],
                "bpe_word_ids": [-1, *words[: n // 2], -1],
            }
        )
    return examples


def test_masking_rate_and_80_10_10_against_expected_proportions():
    batch = _collator()([*_examples(400)])
    for stream in ("phoneme", "bpe"):
        ids, labels, mask = batch[f"{stream}_input_ids"], batch[f"{stream}_labels"], batch[f"{stream}_attention_mask"]
        selected = labels != IGNORE_INDEX
        original = torch.where(selected, labels, ids)
        maskable = mask.bool() & ~torch.isin(original, torch.tensor(SPECIALS))
        rate = selected.sum().item() / maskable.sum().item()
        assert abs(rate - 0.15) < 0.01, rate  # thousands of tokens: the binomial sd is ~0.003
        replaced_by_mask = (ids == MASK) & selected
        kept = (ids == labels) & selected
        random = selected & ~replaced_by_mask & ~kept
        total = selected.sum().item()
        assert abs(replaced_by_mask.sum().item() / total - 0.8) < 0.03
        # a random draw can hit the original token (1 in 45): 'kept' is 10 % plus that share
        assert abs((kept.sum().item() + random.sum().item()) / total - 0.2) < 0.03


def test_specials_and_padding_never_selected_nor_drawn():
    batch = _collator(mask_replace_prob=0.0, random_replace_prob=1.0)(_examples(200))
    for stream in ("phoneme", "bpe"):
        ids, labels, mask = batch[f"{stream}_input_ids"], batch[f"{stream}_labels"], batch[f"{stream}_attention_mask"]
        selected = labels != IGNORE_INDEX
        assert not torch.isin(labels[selected], torch.tensor(SPECIALS)).any()
        assert not torch.isin(ids[selected], torch.tensor(SPECIALS)).any()  # random draws are ordinary
        assert not selected[mask == 0].any()
        assert (ids[:, 0] == BOS).all()


def test_labels_are_the_original_ids():
    examples = _examples(50)
    batch = _collator()(examples)
    for row, example in enumerate(examples):
        original = torch.tensor(example["phoneme_input_ids"])
        labels = batch["phoneme_labels"][row, : len(original)]
        selected = labels != IGNORE_INDEX
        assert torch.equal(labels[selected], original[selected])
        unselected = ~selected
        assert torch.equal(batch["phoneme_input_ids"][row, : len(original)][unselected], original[unselected])


def test_whole_word_masks_all_tokens_of_a_word():
    batch = _collator(whole_word=True)(_examples(200))
    for stream in ("phoneme", "bpe"):
        selected = batch[f"{stream}_labels"] != IGNORE_INDEX
        words = batch[f"{stream}_word_ids"]
        for row in range(words.shape[0]):
            for word in words[row].unique().tolist():
                if word < 0:
                    continue
                in_word = selected[row][words[row] == word]
                assert in_word.all() or not in_word.any()
        rate = selected.sum().item() / (words >= 0).sum().item()
        assert abs(rate - 0.15) < 0.03


def test_streams_are_masked_independently():
    batch = _collator()(_examples(300))
    phoneme = (batch["phoneme_labels"][:, 1:20] != IGNORE_INDEX).float().flatten()
    bpe = (batch["bpe_labels"][:, 1:20] != IGNORE_INDEX).float().flatten()
    correlation = torch.corrcoef(torch.stack([phoneme, bpe]))[0, 1].item()
    assert abs(correlation) < 0.05


def test_seeded_masks_are_reproducible():
    examples = _examples(20)
    first, second = _collator()(examples), _collator()(examples)
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_from_processor_uses_the_tokenizers():
    from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

    processor = DualStreamProcessor.from_defaults()
    collator = DualStreamMLMCollator.from_processor(processor)
    assert collator.phoneme_mask_id == processor.tokenizer.mask_token_id
    assert collator.bpe_mask_id == processor.bpe_tokenizer.mask_token_id
    assert processor.tokenizer.word_boundary_id not in collator.phoneme_special_ids  # '#' is maskable
    assert collator.bpe_vocab_size == len(processor.bpe_tokenizer)


@pytest.mark.parametrize(
    "kwargs", [{"mlm_probability": 0.0}, {"mlm_probability": 1.0}, {"mask_replace_prob": 0.95, "random_replace_prob": 0.1}]
)
def test_bad_settings_raise(kwargs):
    with pytest.raises(ValueError):
        _collator(**kwargs)


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="empty batch"):
        _collator()([])
