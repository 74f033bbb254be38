"""The long-running service: scheduler, HTTP endpoints, locking."""
