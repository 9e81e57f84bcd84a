"""Sheaf's native shell: the server in a thread, the pywebview window on the main thread."""
