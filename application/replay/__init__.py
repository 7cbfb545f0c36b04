"""The replay toolbox: export, import, verify and replay the log."""
