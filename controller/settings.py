"""The one place where flags, environment variables and config files meet.

Each part of the controller takes a small frozen settings group as an argument; nothing
deeper reads ``os.environ`` or files on its own. Secrets are kept out of ``repr``.
"""

from __future__ import annotations
