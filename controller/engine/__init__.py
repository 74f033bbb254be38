"""Reconcile once: load, snapshot, plan, apply; ordering and concurrency."""
