"""Fraud detector: a logistic model over a few transaction features.

DRUM calls load_model() once, then score() for each batch. The coefficients ship with the
model (coefficients.json) so the model is reproducible from git alone.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
from datarobot_drum import RuntimeParameters

log = logging.getLogger(__name__)

POSITIVE, NEGATIVE = "yes", "no"


def load_model(code_dir: str) -> dict:
    with open(Path(code_dir) / "coefficients.json", encoding="utf-8") as handle:
        return json.load(handle)


def _blocklist() -> set[str]:
    raw = RuntimeParameters.get("MERCHANT_BLOCKLIST") or ""
    return {item.strip() for item in raw.split(",") if item.strip()}


def score(data: pd.DataFrame, model: dict, **kwargs) -> pd.DataFrame:
    cap = float(RuntimeParameters.get("AMOUNT_CAP"))
    explain = bool(RuntimeParameters.get("EXPLAIN_SCORES"))
    blocked = _blocklist()
    features = data.copy()
    features["amount"] = features["amount"].clip(upper=cap)
    logits = pd.Series(model["intercept"], index=features.index, dtype=float)
    for name, weight in model["weights"].items():
        contribution = features[name].astype(float) * weight
        logits += contribution
        if explain:
            log.info("contribution %s: mean %.4f", name, contribution.mean())
    probability = logits.map(lambda z: 1.0 / (1.0 + math.exp(-z)))
    if blocked and "merchant_id" in features:
        probability[features["merchant_id"].isin(blocked)] = 1.0
    return pd.DataFrame({POSITIVE: probability, NEGATIVE: 1.0 - probability})
