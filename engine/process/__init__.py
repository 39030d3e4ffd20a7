"""The app's training process: the parent drives it, the child trains, keeps and
evaluates a whole run, and the protocol is the typed messages between the two. It sits
beside the command line, above runs and export, because it does everything `main.py
train` does."""
