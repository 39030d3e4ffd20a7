"""The app's training process: the parent drives it, the child trains, keeps and
evaluates a whole run. It sits beside the command line, above runs and export, because
it does everything `main.py train` does."""
