"""Local tests of the scoring code; excluded from the uploaded version (see exclude)."""

import custom
import pandas as pd


def test_blocked_merchants_score_as_fraud(monkeypatch):
    values = {"AMOUNT_CAP": 25000, "EXPLAIN_SCORES": False, "MERCHANT_BLOCKLIST": "m-1"}
    monkeypatch.setattr(custom.RuntimeParameters, "get", values.get)
    model = {"intercept": -10.0, "weights": {"amount": 0.0}}
    data = pd.DataFrame({"amount": [10.0, 10.0], "merchant_id": ["m-1", "m-2"]})
    scored = custom.score(data, model)
    assert scored["yes"].tolist()[0] == 1.0
    assert scored["yes"].tolist()[1] < 0.01
