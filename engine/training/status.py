"""How a training run ended. The values are the words run.json and summary.json keep, so
a status compares equal to the string read back from a file. No torch here: the runs
list reads statuses before torch has loaded."""

from enum import StrEnum


class RunStatus(StrEnum):
    COMPLETED = "completed"
    EARLY_STOPPED = "early_stopped"  # the validation loss stopped improving
    STOPPED = "stopped"  # the user stopped it
    FAILED = "failed"  # it could not go on; the run's message says why

    @property
    def kept_best(self) -> bool:
        """Whether the run ended with early stopping's best weights (when it watched):
        a stop by the user or a failure keeps the weights it had."""
        return self in (RunStatus.COMPLETED, RunStatus.EARLY_STOPPED)
