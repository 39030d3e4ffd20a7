"""The bar over the plots: Train, Pause/Resume, Stop, the device, progress and a status line.

It shows the controller's state and progress and says what the user asked for through
signals; it decides nothing (`TrainingSession` does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.inspector.form import ERROR_COLOR
from gui.training.controller import TrainingState

if TYPE_CHECKING:
    from engine.training.preflight import Fix


def clock(seconds: float) -> str:
    """12 s, 3:05, 1:02:09."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(progress: dict[str, Any]) -> str:
    """The progress bar's text while a run goes: where it is, its speed and time left."""
    where = (
        f"epoch {progress['epoch']}/{progress['epochs']}, "
        f"batch {progress['batch']}/{progress['batches_per_epoch']}"
    )
    speed = f"{progress['samples_per_second']:,.0f} samples/s"
    left = progress.get("seconds_left")
    return f"{where}: {speed}" + ("" if left is None else f", about {clock(left)} left")


class RunBar(QWidget):
    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    device_chosen = Signal(str)
    fix_clicked = Signal(object)  # the Fix offered with the problem shown
    state_shown = Signal()  # the buttons' enabled states changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.train = _button("Train", "trainButton", "Train the network with these settings")
        self.pause = _button("Pause", "pauseButton", "Pause after the current batch")
        self.stop = _button("Stop", "stopButton", "End the run after the current batch")
        self.device = QComboBox()
        self.device.setObjectName("deviceCombo")
        self.device.setToolTip("Where the network trains")
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.device.activated.connect(lambda i: self.device_chosen.emit(self.device.itemData(i)))
        self.progress = RunProgress()
        self.progress.setObjectName("progress")
        self.progress.setTextVisible(True)
        self.status = QLabel("Not trained yet.")
        self.status.setObjectName("trainingStatus")
        self.status.setWordWrap(True)
        self.fix = _button("", "fixButton", "Make this change (it can be undone)")
        self.fix.hide()
        self.fix.clicked.connect(lambda: self.fix_clicked.emit(self._fix))
        self._fix = None
        row = QHBoxLayout()
        for widget in (self.train, self.pause, self.stop):
            row.addWidget(widget)
        row.addSpacing(12)
        row.addWidget(QLabel("Device"))
        row.addWidget(self.device)
        row.addSpacing(12)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.fix)
        layout.addLayout(status_row)
        self.train.clicked.connect(self.train_clicked)
        self.stop.clicked.connect(self.stop_clicked)
        self.pause.clicked.connect(self._pause_or_resume)
        self.engine_ready = False
        self._start_epoch = 1
        self.show_state(TrainingState.IDLE)

    def _pause_or_resume(self) -> None:
        (self.resume_clicked if self.pause.text() == "Resume" else self.pause_clicked).emit()

    def set_devices(self, choices: list[tuple[str, str]], current: str) -> None:
        """Offer `choices` (setting, description); a `current` device this machine lacks
        stays listed, marked, so the project's setting is never silently replaced."""
        with QSignalBlocker(self.device):
            self.device.clear()
            for value, text in choices:
                self.device.addItem(text, value)
            self.show_device(current)

    def show_device(self, current: str) -> None:
        with QSignalBlocker(self.device):
            index = self.device.findData(current)
            if index < 0:
                self.device.addItem(f"{current} (not on this machine)", current)
                index = self.device.count() - 1
            self.device.setCurrentIndex(index)

    def show_state(self, state: TrainingState) -> None:
        idle = state == TrainingState.IDLE
        self.train.setEnabled(idle and self.engine_ready)
        self.device.setEnabled(idle)
        self.pause.setEnabled(state.can_resume)  # one button: Pause, or Resume when paused
        self.pause.setText("Resume" if state == TrainingState.PAUSED else "Pause")
        self.stop.setEnabled(not idle and state != TrainingState.STOPPING)
        if state == TrainingState.PREPARING:
            self.show_status("Preparing: building the model and loading the data...")
            self.progress.setRange(0, 0)  # busy until the plan is known
        elif state == TrainingState.PAUSED:
            self.show_status("Paused. Resume to go on, or Stop to keep the run as it is.")
        elif state == TrainingState.STOPPING:
            self.show_status("Stopping after the current batch...")
        self.state_shown.emit()

    def show_plan(self, plan: dict[str, Any]) -> None:
        total = (plan["epochs"] - plan["start_epoch"] + 1) * plan["batches_per_epoch"]
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.setFormat(f"epoch {plan['start_epoch']}/{plan['epochs']}")
        self._start_epoch = plan["start_epoch"]
        from engine.training.sanity import initial_loss_lines

        lines = initial_loss_lines(plan.get("initial_loss", []))
        said = "".join(f" {line[0].upper()}{line[1:]}." for line in lines)
        self.show_status(f"Training on {plan.get('device', 'the device')}...{said}")

    def show_decoding(self, done: int, total: int) -> None:
        """An image folder decodes into the cache before its first run."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"decoding images into the cache: {done:,} of {total:,}")

    def show_progress(self, progress: dict[str, Any]) -> None:
        per = progress["batches_per_epoch"]
        done = (progress["epoch"] - self._start_epoch) * per + progress["batch"]
        self.progress.setValue(min(done, self.progress.maximum()))
        # In the bar, not the status line: a new text there lays the whole window out
        # again (the line wraps), many milliseconds at every burst of batches.
        self.progress.setFormat(progress_text(progress))

    def show_end(self, text: str, error: bool = False) -> None:
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self.show_status(text, error)

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.status.setText(text)
        self._fix = None
        self.fix.hide()

    def show_problem(self, text: str, fix: Fix | None) -> None:
        """Why Train did not start, with a button for the obvious fix when there is one."""
        self.show_end(text, error=True)
        if fix is not None:
            self._fix = fix
            self.fix.setText(fix.label)
            self.fix.show()


class RunProgress(QProgressBar):
    """A progress bar that is painted with the rest of the window. QProgressBar's own
    `setValue` and `setRange` repaint it at once, a millisecond or more each, at every
    burst of batches."""

    def setValue(self, value: int) -> None:
        self.setUpdatesEnabled(False)
        super().setValue(value)
        self.setUpdatesEnabled(True)  # asks for the paint the next frame does anyway

    def setRange(self, low: int, high: int) -> None:
        self.setUpdatesEnabled(False)
        super().setRange(low, high)
        self.setUpdatesEnabled(True)


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button
