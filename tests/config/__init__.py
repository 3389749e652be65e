"""The options tables, the one boolean parser and the settings built from them."""
