"""The widget panels, through a recording comm and in a real browser."""
