"""Models, engines, generation parameters and one generation."""
