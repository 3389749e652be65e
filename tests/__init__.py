"""h2ogpt-jupyter's tests, one folder per package."""
