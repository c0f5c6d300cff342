"""DNSMOS P.808 / overall scores: a MOS proxy, not MOS.

A local ``evaluate`` module shipped with prosody_tts: ``evaluate.load(prosody_tts.evaluation.metric_modules.metric_module_path("dnsmos"))``.
The computation lives in ``prosody_tts.evaluation.metric_modules.DnsMosProxy``.
"""

from prosody_tts.evaluation.metric_modules import DnsMosProxy

__all__ = ["DnsMosProxy"]
