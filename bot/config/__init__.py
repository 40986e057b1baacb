"""The settings: each declared once, read from the TOML file and the environment, and checked."""
