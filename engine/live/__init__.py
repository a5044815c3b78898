"""Live transcription: decode while audio is still arriving (see :mod:`engine.live.stream`)."""
