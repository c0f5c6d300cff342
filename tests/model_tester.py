"""The checks every model family passes (transformers' ``ModelTesterMixin`` idea, written our way).

A test class per model class mixes in :class:`ModelTesterMixin` and declares:

* ``model_class`` — the ``PreTrainedModel`` under test (``config_class`` comes from it);
* ``get_config()`` — a tiny config (< 1M parameters);
* ``get_inputs(config, seed)`` — forward inputs, with labels when the model computes a loss;
* ``zero_init`` — ``{parameter-name regex: why}`` of parameters that must be exactly 0 after
  ``post_init`` and after ``from_pretrained`` of a model whose value is not 0 (zero-init that
  survives loading);
* ``gradient_exceptions`` — ``{parameter-name regex: why}`` of parameters a training step may
  leave without a gradient (documented, never silent);
* ``loss_of(output)`` — the scalar a training step minimises (default ``output.loss``);
* ``training_inputs(config)`` — optional: several batches for one step (default ``[get_inputs]``);
* ``padded_inputs(config)`` — optional hook: ``(short, padded, compare)`` where ``compare(a, b)``
  checks the outputs of the unpadded and the padded batch agree (padding invariance).

Tests: config round trip (dict, ``save_pretrained``, ``AutoConfig``), save/load with identical
outputs (and ``AutoModel*`` resolving the class), zero-init contract, a training step reaching
every parameter, tuple vs dict outputs, padding invariance, remote-code export.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import pytest
import torch
from transformers import AutoConfig

import prosody_tts  # noqa: F401  (registers the Auto classes)
from prosody_tts.hub import save_for_remote_code
from prosody_tts.processing.padding import pad_rows_tensor

#: Processor-like word ids of two right-padded texts: 3 words (``<s> w0 w0 # w1 w1 w1 # w2 </s>``)
#: and 2 words; the BPE stream of the same words.
PHONEME_WORD_IDS = ([-1, 0, 0, -1, 1, 1, 1, -1, 2, -1], [-1, 0, 0, 0, -1, 1, -1])
BPE_WORD_IDS = ([-1, 0, 1, 1, 2, -1], [-1, 0, 1, -1])


def tiny_text_batch(phoneme_vocab_size: int, bpe_vocab_size: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Both token streams of two texts of different lengths, right-padded, with their word ids."""
    generator = torch.Generator().manual_seed(seed)

    def ids(rows: tuple[list[int], ...], vocab: int) -> list[list[int]]:
        return [torch.randint(5, vocab, (len(row),), generator=generator).tolist() for row in rows]

    return {
        "phoneme_input_ids": pad_rows_tensor(ids(PHONEME_WORD_IDS, phoneme_vocab_size), 0),
        "phoneme_attention_mask": pad_rows_tensor([[1] * len(row) for row in PHONEME_WORD_IDS], 0),
        "phoneme_word_ids": pad_rows_tensor(PHONEME_WORD_IDS, -1),
        "bpe_input_ids": pad_rows_tensor(ids(BPE_WORD_IDS, bpe_vocab_size), 0),
        "bpe_attention_mask": pad_rows_tensor([[1] * len(row) for row in BPE_WORD_IDS], 0),
        "bpe_word_ids": pad_rows_tensor(BPE_WORD_IDS, -1),
    }


def _matches(name: str, patterns: dict[str, str]) -> bool:
    return any(re.search(pattern, name) for pattern in patterns)


def _randomise(model: torch.nn.Module, patterns: dict[str, str], seed: int = 123) -> None:
    """Give the zero-initialised parameters trained-looking values."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if _matches(name, patterns):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)


def _config_dict(config: Any) -> dict[str, Any]:
    """A config's values without where it was loaded from."""
    return {key: value for key, value in config.to_dict().items() if key != "_name_or_path"}


def _imports_of(source: str) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _seeded(model: torch.nn.Module, inputs: dict[str, Any], **kwargs: Any) -> Any:
    torch.manual_seed(0)
    return model(**inputs, **kwargs)


def _first_tensor(output: Any) -> torch.Tensor:
    value = output[0]
    return value if isinstance(value, torch.Tensor) else value[0]


class ModelTesterMixin:
    model_class: ClassVar[type]
    zero_init: ClassVar[dict[str, str]] = {}
    gradient_exceptions: ClassVar[dict[str, str]] = {}

    # ------------------------------------------------------------------ hooks
    def get_config(self) -> Any:
        raise NotImplementedError

    def get_inputs(self, config: Any, seed: int = 0) -> dict[str, Any]:
        raise NotImplementedError

    def loss_of(self, output: Any) -> torch.Tensor:
        return output.loss

    def padded_inputs(self, config: Any) -> tuple[dict, dict, Any] | None:
        return None

    def training_inputs(self, config: Any) -> list[dict[str, Any]]:
        """The batches of one training step (their losses are summed); several when one batch
        cannot take every route (e.g. speaker ids in one, external speaker embeddings in another)."""
        return [self.get_inputs(config)]

    def make_model(self, config: Any | None = None) -> torch.nn.Module:
        torch.manual_seed(0)
        return self.model_class(config if config is not None else self.get_config())

    # ------------------------------------------------------------------ tests
    def test_model_is_tiny(self):
        model = self.make_model()
        assert sum(p.numel() for p in model.parameters()) < 1_000_000

    def test_config_round_trip(self, tmp_path):
        config = self.get_config()
        config_class = self.model_class.config_class
        expected = _config_dict(config)
        assert _config_dict(config_class.from_dict(config.to_dict())) == expected
        config.save_pretrained(tmp_path)
        assert _config_dict(config_class.from_pretrained(tmp_path)) == expected
        auto = AutoConfig.from_pretrained(tmp_path)
        assert type(auto) is config_class and _config_dict(auto) == expected

    def test_save_load_identical_outputs(self, tmp_path):
        model = self.make_model().eval()
        _randomise(model, self.zero_init)  # loading must keep them, not re-initialise them
        model.save_pretrained(tmp_path)
        assert (tmp_path / "model.safetensors").is_file()
        loaded = self.model_class.from_pretrained(tmp_path).eval()
        state, reloaded = model.state_dict(), loaded.state_dict()
        assert state.keys() == reloaded.keys()
        for name, tensor in state.items():
            assert torch.equal(tensor, reloaded[name]), name
        inputs = self.get_inputs(model.config)
        with torch.no_grad():  # seeded before each call: a model may draw noise in forward
            expected = _seeded(model, inputs, return_dict=True)
            got = _seeded(loaded, inputs, return_dict=True)
        for key, value in expected.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, got[key]), key

    def test_zero_init_survives_post_init_and_loading(self, tmp_path):
        if not self.zero_init:
            pytest.skip("this model has no zero-initialised parameters")
        config = self.get_config()
        for model in (self.model_class(config), self.model_class._from_config(config)):
            named = dict(model.named_parameters())
            chosen = [name for name in named if _matches(name, self.zero_init)]
            assert chosen, f"no parameter matches {list(self.zero_init)}"
            for name in chosen:
                assert bool(named[name].eq(0).all()), f"{name} is not zero after post_init"
        # a checkpoint with non-zero values loads them unchanged (no re-initialisation on load)
        _randomise(model, self.zero_init)
        model.save_pretrained(tmp_path)
        loaded = dict(self.model_class.from_pretrained(tmp_path).named_parameters())
        for name in chosen:
            assert torch.equal(loaded[name], named[name]) and bool(loaded[name].ne(0).any()), name

    def test_training_step_reaches_every_parameter(self):
        model = self.make_model().train()
        _randomise(model, self.zero_init)  # zero-init blocks are the identity: make every path live
        loss = sum(self.loss_of(model(**inputs, return_dict=True)) for inputs in self.training_inputs(model.config))
        assert loss.dim() == 0 and torch.isfinite(loss)
        loss.backward()
        missing = [
            name
            for name, param in model.named_parameters()
            if param.requires_grad
            and (param.grad is None or not bool(param.grad.ne(0).any()))
            and not _matches(name, self.gradient_exceptions)
        ]
        assert not missing, f"no gradient reaches {missing} (declare a documented exception if intended)"
        for name, param in model.named_parameters():
            if param.grad is not None:
                assert bool(torch.isfinite(param.grad).all()), name
            if _matches(name, self.gradient_exceptions):  # an exception must really get (almost) nothing
                assert param.grad is None or float(param.grad.abs().max()) < 1e-6, name

    def test_tuple_and_dict_outputs_agree(self):
        model = self.make_model().eval()
        inputs = self.get_inputs(model.config)
        with torch.no_grad():
            as_dict = _seeded(model, inputs, return_dict=True)
            as_tuple = _seeded(model, inputs, return_dict=False)
        assert isinstance(as_tuple, tuple)
        assert torch.equal(_first_tensor(as_tuple), _first_tensor(as_dict.to_tuple()))

    def test_padding_invariance(self):
        case = self.padded_inputs(self.get_config())
        if case is None:
            pytest.skip("this model declares no padding case")
        short, padded, compare = case
        model = self.make_model().eval()
        _randomise(model, self.zero_init)
        with torch.no_grad():
            compare(model(**short, return_dict=True), model(**padded, return_dict=True))

    def test_remote_code_export(self, tmp_path):
        model = self.make_model()
        save_for_remote_code(model, tmp_path)
        auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
        assert "AutoConfig" in auto_map
        assert any(entry.endswith(f".{self.model_class.__name__}") for entry in auto_map.values())
        for module in {entry.split(".")[0] for entry in auto_map.values()}:
            source = (tmp_path / f"{module}.py").read_text()
            compile(source, module, "exec")
            assert not {name for name in _imports_of(source) if name.startswith("prosody_tts")}, module
