"""Files: model files, atomic writes, PNG provenance, official pickles read without running them."""
