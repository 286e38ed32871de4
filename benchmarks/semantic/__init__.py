"""Semantic benchmark: a procedural face world where an SVD latent edit is measured exactly."""
