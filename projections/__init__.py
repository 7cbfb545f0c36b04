"""The read side: read models built by projectors from the event log, and their queries."""
