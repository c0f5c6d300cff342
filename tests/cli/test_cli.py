"""The `prosody-tts` command: demo, phonemize (args, file, stdin, JSON, errors), train-bpe."""

import io
import json

import pytest

from prosody_tts.cli import main
from prosody_tts.cli.demo import DEMO_SENTENCES


def test_demo_frontend_table_prints_every_stage(capsys):
    assert main(["demo", "--frontend-only"]) == 0
    out = capsys.readouterr().out
    for sentence in DEMO_SENTENCES:
        assert sentence in out
    for label in ("normalized", "stressed", "phonemes", "phoneme ids", "bpe tokens", "bpe word ids"):
        assert label in out
    assert "В две тысячи двадцать пятом году" in out


@pytest.mark.parametrize("flag", ["--speakers", "--stage2-steps"])
def test_demo_refuses_non_positive_sizes(capsys, flag):
    assert main(["demo", flag, "0"]) == 2
    assert f"{flag} must be >= 1" in capsys.readouterr().err


def test_phonemize_json(capsys):
    assert main(["phonemize", "--json", "Привет, мир!", "з+амок"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    assert records[0]["phonemes"] == ["p", "rʲ", "ɪ", "vʲ", "ˈe", "t", ",", "#", "mʲ", "ˈi", "r", "!"]
    assert records[1]["stressed"] == "з+амок"
    assert len(records[0]["phoneme_input_ids"]) == len(records[0]["phonemes"]) + 2


def test_phonemize_file_with_progress_and_bad_line(tmp_path, capsys):
    path = tmp_path / "in.txt"
    path.write_text("Первая строка.\n\nВторая 😀 строка.\nТретья строка.\n", encoding="utf-8")
    assert main(["phonemize", "--json", "--file", str(path)]) == 1  # stops at the bad line
    captured = capsys.readouterr()
    assert "line 3" in captured.err and "UnsupportedCharacterError" in captured.err
    assert len(captured.out.strip().splitlines()) == 1

    assert main(["phonemize", "--json", "--keep-going", "--file", str(path)]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 2  # the good lines, the bad one reported
    assert "1 line(s) could not be phonemised" in captured.err
    assert "phonemize" in captured.err  # the progress bar


def test_phonemize_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Да.\nНет.\n"))
    assert main(["phonemize", "--json", "-"]) == 0
    assert [json.loads(x)["words"] for x in capsys.readouterr().out.splitlines()] == [["Да"], ["Нет"]]


def test_phonemize_missing_file():
    with pytest.raises(SystemExit, match="no such file"):
        main(["phonemize", "--file", "/nonexistent/file.txt"])


def test_train_bpe_command(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["Мы купили хлеб, молоко и сыр."] * 30), encoding="utf-8")
    out = tmp_path / "bpe"
    assert main(["train-bpe", "--input", str(corpus), "--out", str(out), "--vocab-size", "80"]) == 0
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.unk_token_id not in tokenizer("молоко").input_ids


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "phonemize" in capsys.readouterr().out


def test_corpus_build_rejects_non_positive_sizes(tmp_path):
    with pytest.raises(SystemExit, match="must be positive"):
        main(["corpus", "build", "--out", str(tmp_path), "--utterances", "0"])


def test_train_needs_a_recipe_and_lists_itself(capsys):
    with pytest.raises(SystemExit, match="give a recipe file"):
        main(["train"])
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "recipe" in capsys.readouterr().out


def test_every_command_group_is_one_module_with_add_parser():
    import importlib

    for name in ("demo", "evaluate", "phonemize", "tokenizer", "corpus", "train"):
        assert callable(importlib.import_module(f"prosody_tts.cli.{name}").add_parser), name
