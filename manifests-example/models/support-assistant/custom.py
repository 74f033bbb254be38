"""Support assistant: a text-generation model that asks a hosted LLM, grounded in the
help-centre articles shipped with the model.

DRUM calls load_model() once, then score() for each batch of prompts; a text-generation
model returns its answers in the target column ("resultText").
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import requests
from datarobot_drum import RuntimeParameters

SYSTEM_PROMPT = (
    "You answer customer support questions using only the articles below. "
    "If they do not cover the question, say so and suggest contacting support.\n\n"
)


def load_model(code_dir: str) -> dict:
    articles = json.loads((Path(code_dir) / "articles.json").read_text(encoding="utf-8"))
    return {"context": "\n\n".join(f"# {a['title']}\n{a['body']}" for a in articles)}


def _ask(session: requests.Session, model: dict, question: str) -> str:
    token = RuntimeParameters.get("LLM_API_TOKEN")["apiToken"]
    response = session.post(
        RuntimeParameters.get("LLM_ENDPOINT"),
        headers={"Authorization": f"Bearer {token}"},
        json={
            "model": RuntimeParameters.get("LLM_MODEL"),
            "temperature": float(RuntimeParameters.get("TEMPERATURE")),
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT + model["context"]},
                {"role": "user", "content": question},
            ],
        },
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["choices"][0]["message"]["content"]


def score(data: pd.DataFrame, model: dict, **kwargs) -> pd.DataFrame:
    with requests.Session() as session:
        answers = [_ask(session, model, str(q)) for q in data["promptText"]]
    return pd.DataFrame({"resultText": answers})
