"""What every kind of test shares: a fake clock set to an explicit instant, ports of this
pytest-xdist worker's own, and waiting on an exact condition."""
