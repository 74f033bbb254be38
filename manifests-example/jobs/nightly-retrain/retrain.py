"""Refit the fraud detector's coefficients on recent labelled transactions.

Runtime parameters arrive as environment variables; the credential as a JSON object.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
from sklearn.linear_model import LogisticRegression

FEATURES = ["amount", "foreign_card", "night_time", "transactions_last_hour"]


def _storage_options() -> dict:
    credential = json.loads(os.environ["DATA_CREDENTIALS"])
    return {
        "key": credential["awsAccessKeyId"],
        "secret": credential["awsSecretAccessKey"],
        "token": credential.get("awsSessionToken"),
    }


def main() -> int:
    days = int(float(os.environ.get("TRAINING_DAYS", "30")))
    min_rows = int(float(os.environ.get("MIN_ROWS", "1000")))
    since = datetime.now(UTC) - timedelta(days=days)
    frame = pd.read_parquet(os.environ["TRAINING_DATA_PATH"], storage_options=_storage_options())
    frame = frame[pd.to_datetime(frame["timestamp"], utc=True) >= since]
    if len(frame) < min_rows:
        print(f"only {len(frame)} labelled rows since {since:%Y-%m-%d}; need {min_rows}")
        return 1
    model = LogisticRegression(max_iter=1000).fit(frame[FEATURES], frame["is_fraud"] == "yes")
    coefficients = {
        "intercept": float(model.intercept_[0]),
        "weights": dict(zip(FEATURES, map(float, model.coef_[0]), strict=True)),
    }
    print(json.dumps(coefficients, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
