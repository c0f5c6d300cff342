"""SIM-o: cosine similarity of speaker embeddings (resemblyzer GE2E by default).

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("sim_o"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.SpeakerSimilarity``.
"""

from prosody_tts.evaluation.metric_modules import SpeakerSimilarity

__all__ = ["SpeakerSimilarity"]
