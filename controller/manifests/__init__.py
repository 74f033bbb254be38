"""Find, parse and validate manifests; build the desired state."""
