"""Where examples come from, each mapped onto the canonical schema (:mod:`prosody_tts.data.schema`).

``adapters`` (registered Hub corpora: Common Voice, Golos, SOVA, RuLS, FLEURS, RUSLAN, Balalaika,
Wikipedia, FineWeb-2), ``local`` (jsonl / csv / parquet manifests, wav+txt folders, webdataset),
``festvox`` (festvox-ru), ``embedded`` + ``espeak_synth`` (the offline espeak corpus with exact
timings), ``sentences`` (the packaged Russian sentences and the seeded generator).
"""
