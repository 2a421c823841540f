"""One thin script per DVC stage: read params, call ``mer``, write outputs (run as ``python -m stages.<name>``)."""
