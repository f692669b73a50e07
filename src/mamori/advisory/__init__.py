"""Security advisories: writing and publishing CSAF 2.0 documents, and checking CSAF providers."""
