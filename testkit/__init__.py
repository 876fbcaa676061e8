"""What the tests and the benchmark share: a tagged template repository in tmp, renders,
the checks every rendered document must pass, and the update ladder's scripted teams.

Reached from tests through pytest.ini's `pythonpath = .`; bench/run.py puts the repository
root on its path itself."""
