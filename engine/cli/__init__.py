"""Headless sub-commands of `python main.py`."""
