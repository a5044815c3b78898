"""Reusable widgets for Parcero's pages: audio and attention views, level meter."""
