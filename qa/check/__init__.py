"""Check: bind every figure of an answer (or a claim) to the fact it names; audit documents."""
