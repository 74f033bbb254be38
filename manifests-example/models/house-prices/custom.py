"""House prices: a linear model with a log-price target.

DRUM calls load_model() once, then score() for each batch; a regression model returns one
column named "Predictions".
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd


def load_model(code_dir: str) -> dict:
    with open(Path(code_dir) / "model.json", encoding="utf-8") as handle:
        return json.load(handle)


def score(data: pd.DataFrame, model: dict, **kwargs) -> pd.DataFrame:
    log_price = pd.Series(model["intercept"], index=data.index, dtype=float)
    for name, weight in model["weights"].items():
        log_price += data[name].astype(float) * weight
    neighbourhood = data.get("neighbourhood")
    if neighbourhood is not None:
        log_price += neighbourhood.map(model["neighbourhoods"]).fillna(0.0)
    return pd.DataFrame({"Predictions": log_price.map(math.exp)})
