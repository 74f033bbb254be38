"""Pure rules of the emulated API (no HTTP, no store): files, dependencies, runtime parameters."""
