"""Camera capture, QR decoding, keyboard-wedge input and debouncing. No Qt widgets."""
