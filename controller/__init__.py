"""dr-gitops: keeps DataRobot custom models and custom jobs equal to a git repository."""

__version__ = "0.1.0"
