#!/bin/sh
# Entry point of the custom job: DataRobot runs this file.
set -eu
cd "$(dirname "$0")"
pip install --quiet -r requirements.txt
exec python retrain.py
