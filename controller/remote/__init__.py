"""The DataRobot client (the only user of requests) and the live snapshot reader."""
