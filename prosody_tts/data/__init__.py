"""Corpora in one example schema, and the ways they reach the trainers.

::

    sources/ (Hub adapters, local manifests, festvox-ru, embedded espeak corpus)
      ─► schema (canonical examples) ─► sharding (per rank, once) ─► streaming (robust, resumable)
      ─► prepared (Arrow rows, once) ─► occurrences (index, dataset) ─► samplers ─► collators

See ``docs/architecture.md`` for the module of each concept.
"""
