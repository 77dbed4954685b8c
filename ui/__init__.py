"""PySide6 windows and widgets that adapt the terminal engine and the scanner."""
