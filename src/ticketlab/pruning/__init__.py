"""Masks twinned with params, the masked optimizer, pruning scores, global magnitude pruning, the
IMP conditions and baselines, and the per-level summaries of what a mask keeps."""
