"""Whisper in Parcero: its log-mel front end, tokenizer, decoding rules, word timings and importers.

The network itself lives in :mod:`engine.whisper.model`; everything here feeds
it and reads its output the way OpenAI's Whisper does, while the search itself
(beam search, KV cache, attention streaming) is :mod:`engine.decode`, shared
with the Speech-Transformer.
"""
