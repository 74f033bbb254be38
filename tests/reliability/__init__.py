"""The reliability harness: fault soaks, crash trials, hostile input, concurrent controllers.

Quick versions run with ``make test``; long ones are marked ``slow`` (``make test-slow``);
``bench/bench_soak.py`` runs the soak and the crash trials on demand with figures.
"""
