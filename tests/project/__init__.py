"""The whole project: offline audit, Binder, layers, the layout README shows."""
