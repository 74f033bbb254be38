"""Pure values: desired and live resources, diffs and plans. No I/O, imports nothing of ours."""
