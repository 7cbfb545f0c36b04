"""The application layer: commands, the command bus, handlers, policies and wiring."""
