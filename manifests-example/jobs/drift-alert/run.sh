#!/bin/sh
# Entry point of the notification job: DataRobot runs this file with the event in
# NOTIFICATION_* environment variables.
set -eu
cd "$(dirname "$0")"
exec python notify.py
