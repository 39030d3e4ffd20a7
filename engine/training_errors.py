"""The error the trainer raises when settings, data and model cannot train together."""


class TrainingError(ValueError):
    """A problem found before (or while) training; the message is one sentence for the user."""
