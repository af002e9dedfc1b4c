"""A seeded mutation fuzzer for the NIR reader: ``mutations`` makes the hostile files, ``oracle`` says what a
correct reader must reject, ``harness`` runs each case in a resource-limited worker and classifies it."""
