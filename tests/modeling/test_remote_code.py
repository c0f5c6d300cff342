"""Saved directories load with ``trust_remote_code=True`` in a fresh process that cannot import prosody_tts."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import AutoModel

from prosody_tts import DualStreamConfig, DualStreamForMaskedLM, EcapaTdnnConfig, EcapaTdnnModel
from prosody_tts.hub import flatten_sources, remote_code_auto_map, save_for_remote_code

# Runs with ``python -I`` (no PYTHONPATH, no cwd on sys.path); a meta-path finder additionally makes
# every ``prosody_tts`` import fail, because the package is installed (editable) in the venv. One
# process loads every saved model (importing torch + transformers dominates the run time).
LOADER = textwrap.dedent(
    """
    import json
    import sys

    class _BlockProsodyTts:
        def find_spec(self, name, path=None, target=None):
            if name == "prosody_tts" or name.startswith("prosody_tts."):
                raise ImportError("prosody_tts is blocked in this process")
            return None

    sys.meta_path.insert(0, _BlockProsodyTts())

    import torch
    import transformers

    for job in json.loads(sys.argv[1]):
        auto_class = getattr(transformers, job["auto_class"])
        model = auto_class.from_pretrained(job["model_dir"], trust_remote_code=True).eval()
        assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
        assert type(model.config).__module__.startswith("transformers_modules."), type(model.config).__module__
        with torch.no_grad():
            out = model(**torch.load(job["inputs"], weights_only=True))
        torch.save({name: out[name] for name in job["fields"]}, job["outputs"])
        print(job["name"], type(model).__name__, type(model.config).__name__)
    assert "prosody_tts" not in sys.modules, "prosody_tts was imported"
    assert not any(name.startswith("prosody_tts.") for name in sys.modules)
    """
)


def _dual_stream_case():
    model = DualStreamForMaskedLM(DualStreamConfig.tiny()).eval()
    generator = torch.Generator().manual_seed(1)
    inputs = {
        "phoneme_input_ids": torch.randint(4, 100, (2, 7), generator=generator),
        "phoneme_attention_mask": torch.tensor([[1] * 7, [1] * 5 + [0] * 2]),
        "phoneme_word_ids": torch.tensor([[0, 0, 1, 1, 1, 2, 2], [0, 0, 0, 1, 1, -1, -1]]),
        "bpe_input_ids": torch.randint(4, 2900, (2, 3), generator=generator),
        "bpe_attention_mask": torch.tensor([[1, 1, 1], [1, 1, 0]]),
        "bpe_word_ids": torch.tensor([[0, 1, 2], [0, 1, -1]]),
    }
    return model, "AutoModelForMaskedLM", inputs, ["phoneme_logits", "bpe_logits"]


def _ecapa_case():
    model = EcapaTdnnModel(EcapaTdnnConfig.tiny()).eval()
    generator = torch.Generator().manual_seed(2)
    mask = torch.ones(2, 40, dtype=torch.long)
    mask[1, 28:] = 0
    inputs = {
        "input_features": torch.randn(2, 40, model.config.num_mel_bins, generator=generator),
        "feature_attention_mask": mask,
        "segment_spans": torch.tensor([[0, 0, 9], [0, 9, 20], [1, 5, 28]]),
    }
    return model, "AutoModel", inputs, ["embeddings", "frame_features", "segment_embeddings"]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """Save both models with ``save_for_remote_code``, load them in one isolated process."""
    root = tmp_path_factory.mktemp("remote_code")
    torch.manual_seed(0)
    cases, jobs = {}, []
    for name, make in (("dual_stream", _dual_stream_case), ("ecapa", _ecapa_case)):
        model, auto_class, inputs, fields = make()
        model_dir = root / name
        if name == "dual_stream":
            # the transformers route: register the class, then plain save_pretrained
            type(model).register_for_auto_class("AutoModelForMaskedLM")
            try:
                model.save_pretrained(model_dir)
            finally:
                del type(model)._auto_class
            written = sorted(model_dir.glob("*.py"))
        else:
            written = save_for_remote_code(model, model_dir)
        torch.save(inputs, root / f"{name}_inputs.pt")
        with torch.no_grad():
            local = model(**inputs)
        cases[name] = {"dir": model_dir, "written": written, "local": local, "fields": fields}
        jobs.append(
            {
                "name": name,
                "model_dir": str(model_dir),
                "auto_class": auto_class,
                "inputs": str(root / f"{name}_inputs.pt"),
                "outputs": str(root / f"{name}_outputs.pt"),
                "fields": fields,
            }
        )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTHON") and key not in {"HF_HOME", "HF_MODULES_CACHE"}
    }
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_MODULES_CACHE=str(root / "hf_modules"))
    result = subprocess.run(
        [sys.executable, "-I", "-c", LOADER, json.dumps(jobs)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    for name in cases:
        cases[name]["remote"] = torch.load(root / f"{name}_outputs.pt", weights_only=True)
    cases["stdout"] = result.stdout
    return cases


def _package_imports(source: str) -> list[str]:
    """Module names of the import statements of ``source`` that name the package."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [name for name in names if name.split(".")[0] == "prosody_tts"]


def _check_saved_directory(case, expected_auto_map, expected_files):
    model_dir = case["dir"]
    assert sorted(path.name for path in case["written"]) == expected_files
    config = json.loads((model_dir / "config.json").read_text())
    assert config["auto_map"] == expected_auto_map
    for name in expected_files:
        assert not _package_imports((model_dir / name).read_text()), name
    assert not (model_dir / "dual_stream.py").exists()  # transformers' own (broken) copy is not written
    assert not (model_dir / "ecapa_tdnn.py").exists()


def _check_outputs(case):
    for name in case["fields"]:
        torch.testing.assert_close(case["remote"][name], case["local"][name], rtol=0, atol=1e-6)


def test_dual_stream_masked_lm_loads_with_remote_code(remote):
    case = remote["dual_stream"]
    _check_saved_directory(
        case,
        {
            "AutoConfig": "configuration_dual_stream.DualStreamConfig",
            "AutoModel": "modeling_dual_stream.DualStreamModel",
            "AutoModelForMaskedLM": "modeling_dual_stream.DualStreamForMaskedLM",
        },
        [
            "configuration_dual_stream.py", "constants.py", "modeling_dual_stream.py", "modeling_layers.py",
            "modeling_losses.py", "modeling_outputs.py", "modeling_remote_code.py", "modeling_speaker.py",
        ],
    )
    modeling = (case["dir"] / "modeling_dual_stream.py").read_text()
    assert "from .configuration_dual_stream import DualStreamConfig" in modeling
    assert "from .modeling_layers import " in modeling
    assert "dual_stream DualStreamForMaskedLM DualStreamConfig" in remote["stdout"]
    _check_outputs(case)


def test_ecapa_tdnn_loads_with_remote_code(remote):
    case = remote["ecapa"]
    _check_saved_directory(
        case,
        {
            "AutoConfig": "configuration_ecapa_tdnn.EcapaTdnnConfig",
            "AutoModel": "modeling_ecapa_tdnn.EcapaTdnnModel",
        },
        ["configuration_ecapa_tdnn.py", "modeling_ecapa_tdnn.py", "modeling_outputs.py", "modeling_remote_code.py"],
    )
    assert "ecapa EcapaTdnnModel EcapaTdnnConfig" in remote["stdout"]
    _check_outputs(case)


def test_register_for_auto_class_is_honoured_and_left_in_place(tmp_path):
    """A class-level ``register_for_auto_class`` goes into ``auto_map`` and is restored after saving."""
    model = EcapaTdnnModel(EcapaTdnnConfig.tiny())
    EcapaTdnnModel.register_for_auto_class("AutoModelForAudioXVector")
    EcapaTdnnConfig.register_for_auto_class()
    try:
        save_for_remote_code(model, tmp_path)
        assert EcapaTdnnModel._auto_class == "AutoModelForAudioXVector"
        assert EcapaTdnnConfig._auto_class == "AutoConfig"
    finally:
        del EcapaTdnnModel._auto_class
        del EcapaTdnnConfig._auto_class
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModelForAudioXVector"] == "modeling_ecapa_tdnn.EcapaTdnnModel"
    assert auto_map["AutoConfig"] == "configuration_ecapa_tdnn.EcapaTdnnConfig"
    assert not (tmp_path / "ecapa_tdnn.py").exists()
    # The in-process (package) load of the same directory still works.
    assert type(AutoModel.from_pretrained(tmp_path)) is EcapaTdnnModel


def test_flatten_sources_has_no_package_imports():
    files = flatten_sources([DualStreamForMaskedLM, EcapaTdnnModel])
    assert set(files) == {
        "configuration_dual_stream.py",
        "configuration_ecapa_tdnn.py",
        "constants.py",
        "modeling_dual_stream.py",
        "modeling_ecapa_tdnn.py",
        "modeling_layers.py",
        "modeling_losses.py",
        "modeling_outputs.py",
        "modeling_remote_code.py",
        "modeling_speaker.py",
    }
    for text in files.values():
        compile(text, "<flattened>", "exec")


def test_model_without_auto_class_is_refused():
    class Unmapped(EcapaTdnnModel):
        pass

    with pytest.raises(ValueError, match="no auto class maps to Unmapped"):
        remote_code_auto_map(Unmapped(EcapaTdnnConfig.tiny()))
