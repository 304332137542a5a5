"""Saved segments: rules over customer fields and the computed dimensions, compiled to one query."""
