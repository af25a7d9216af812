"""Passages and answers: the embedding backends, the Chroma store, hybrid retrieval, grounded answering."""
