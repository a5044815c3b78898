"""The Speech-Transformer family: our own joint CTC-attention models (Transformer or Conformer encoder)."""
