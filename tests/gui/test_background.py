"""Work handed to a thread comes back to the GUI thread, with its result or its error."""

import threading

from PySide6.QtCore import QObject, Signal

from gui.background import in_background


class Receiver(QObject):
    got = Signal()

    def __init__(self):
        super().__init__()
        self.calls = []

    def done(self, tag, result, error):
        self.calls.append((tag, result, error, threading.current_thread().name))
        self.got.emit()


def test_the_result_and_the_error_arrive_in_the_gui_thread(qtbot):
    receiver = Receiver()
    worked_in = []

    def work():
        worked_in.append(threading.current_thread().name)
        return 42

    with qtbot.waitSignal(receiver.got, timeout=5000):
        in_background(work, receiver.done, "answer")
    with qtbot.waitSignal(receiver.got, timeout=5000):
        in_background(lambda: 1 / 0, receiver.done, "broken")
    main = threading.main_thread().name
    assert worked_in == ["torchwright-background"]
    assert receiver.calls[0] == ("answer", 42, None, main)
    tag, result, error, thread = receiver.calls[1]
    assert (tag, result, thread) == ("broken", None, main)
    assert isinstance(error, ZeroDivisionError)
