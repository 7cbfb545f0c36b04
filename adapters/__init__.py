"""Adapters: settings, the event store, and everything else of the outside world."""
