"""Post a drift notification to a chat webhook (standard library only)."""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    webhook = json.loads(os.environ["WEBHOOK"])["apiToken"]
    if not webhook.startswith("https://"):
        print("the WEBHOOK credential must hold an https:// URL")
        return 1
    deployment = os.environ.get("NOTIFICATION_DEPLOYMENT_NAME", "a deployment")
    detail = os.environ.get("NOTIFICATION_MESSAGE", "data drift was detected")
    body = {"channel": os.environ.get("CHANNEL", "#ml-platform"), "text": f"{deployment}: {detail}"}
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        webhook,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the scheme is checked above)
        print(f"posted: HTTP {response.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
