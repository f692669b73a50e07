"""Contracts with suppliers: the SBOM transaction model's clauses agreed per supplier (terms.py, stored by
store.py), a delivery checked against them (check.py: ``check(terms, delivery) -> list[Gap]``), and
questionnaires sent to suppliers whose answers are kept as the supplier's own assessment (questionnaire.py)."""
