"""A stateful emulator of the DataRobot Custom Models and Custom Jobs API."""
