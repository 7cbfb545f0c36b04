"""The domain of swarmlog: agents, swarms, tasks and consensus proposals."""
