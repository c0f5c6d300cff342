"""Which aligner? The phoneme aligner against a trained Grad-TTS's own alignment, in one process.

    python benchmarks/aligners.py --corpus DIR --aligner ALIGNER_DIR --grad-tts GRAD_TTS_DIR [--repeats 3]

Both align the same held-out utterances (their stored phoneme sequence, log-mels computed once):
the aligner by its attention + MAS (``PhonemeAlignerModel.align``), Grad-TTS by MAS under its
encoder's μ (``GradTTSModel.align``, what its training uses). Reported: boundary errors of each
against the corpus' espeak timings (``evaluation.alignment_accuracy``), and the alignment time of
each (batches of 16, interleaved repeats, medians) as utterances/s and their ratio.
"""

from __future__ import annotations

import argparse
import json

import torch
from timing import median_times

from prosody_tts.data.alignment import AlignerCollator, fold_edge_silence
from prosody_tts.data.collators import DualStreamCollator, TextToSpeechCollator
from prosody_tts.data.sources.embedded import load_embedded_corpus
from prosody_tts.data.streaming import RobustExampleStream
from prosody_tts.evaluation.alignment_accuracy import records_accuracy
from prosody_tts.modeling.grad_tts import GradTTSModel
from prosody_tts.modeling.phoneme_aligner import PhonemeAlignerModel
from prosody_tts.processing.processing_dual_stream import DualStreamProcessor

BATCH = 16


def _records(rows: list[dict], durations: list[list[int]], tokenizer) -> list[dict]:
    out = []
    for row, tokens in zip(rows, durations, strict=True):
        folded, edges = fold_edge_silence(tokens)
        phonemes = tokenizer.convert_ids_to_tokens(row["phoneme_input_ids"][1:-1])
        out.append({"id": row["id"], "phonemes": phonemes, "phoneme_durations": folded, "edge_silence_frames": list(edges)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--aligner", required=True)
    parser.add_argument("--grad-tts", required=True)
    parser.add_argument("--split", default="heldout")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)

    processor = DualStreamProcessor.from_pretrained(args.aligner)
    aligner = PhonemeAlignerModel.from_pretrained(args.aligner).eval()
    tts = GradTTSModel.from_pretrained(args.grad_tts).eval()
    if tts.config.encoder_type != "dual_stream":
        raise SystemExit("give a Grad-TTS with the dual-stream encoder (same phoneme tokens as the aligner)")
    examples = [dict(e) for e in load_embedded_corpus(args.corpus, args.split)]
    rows = [r for r in (RobustExampleStream(examples, processor).process_example(e) for e in examples) if r is not None]
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    aligner_collate = AlignerCollator(processor.tokenizer.pad_token_id, processor.feature_extractor.padding_value)
    names = list(tts.config.speaker_names or [])
    speaker_to_id = {n: i for i, n in enumerate(names)} if tts.config.multi_speaker else None
    tts_collate = TextToSpeechCollator(DualStreamCollator.from_processor(processor, speaker_to_id=speaker_to_id),
                                       with_speaker_ids=bool(speaker_to_id))  # fmt: skip
    aligner_inputs = [aligner_collate([{"input_ids": r["phoneme_input_ids"], "input_features": r["input_features"]}
                                       for r in batch]) for batch in batches]  # fmt: skip
    tts_inputs = [tts_collate(batch) for batch in batches]

    def run_aligner() -> list[list[int]]:
        out = []
        with torch.no_grad():
            for batch, inputs in zip(batches, aligner_inputs, strict=True):
                durations = aligner.align(**inputs).durations
                out += [durations[b, : len(r["phoneme_input_ids"])].tolist() for b, r in enumerate(batch)]
        return out

    def run_tts() -> list[list[int]]:
        out = []
        with torch.no_grad():
            for batch, inputs in zip(batches, tts_inputs, strict=True):
                inputs = dict(inputs)
                spectrogram, lengths = inputs.pop("spectrogram"), inputs.pop("spectrogram_lengths")
                durations = tts.align(spectrogram, lengths, **inputs)
                out += [[int(d) for d in durations[b, : len(r["phoneme_input_ids"])].tolist()] for b, r in enumerate(batch)]
        return out

    seconds = median_times([run_aligner, run_tts], args.repeats)
    frame = int(processor.feature_extractor.hop_length) / int(processor.feature_extractor.sampling_rate)
    sources = {str(e["id"]): e for e in examples}
    result = {"utterances": len(rows), "threads": torch.get_num_threads()}
    for name, durations, time_s in (("aligner", run_aligner(), seconds[0]), ("grad_tts", run_tts(), seconds[1])):
        errors, _ = records_accuracy(_records(rows, durations, processor.tokenizer), sources, "stored_durations", frame)
        result[name] = {"boundary_errors": errors.to_dict(), "utterances_per_second": round(len(rows) / time_s, 2)}
    result["aligner_speedup_over_grad_tts"] = round(seconds[1] / seconds[0], 3)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
