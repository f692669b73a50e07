"""placeholder"""

SOAK_TARGETS: dict = {}
