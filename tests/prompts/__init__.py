"""h2oGPT's prompt formats, against goldens made by h2oGPT's own code."""
