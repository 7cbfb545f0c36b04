Feature: The replay toolbox an operator uses on the event log
  The log is the system of record. An operator exports it, moves it into another
  store, reads the history of one aggregate, looks at an aggregate as it was,
  checks the whole log, and replays a range into a consumer to debug it.

  Background:
    Given a swarm that has worked through 15 tasks

  Scenario: Export then import into an empty store gives the same log
    When the operator exports the log to "log.jsonl.gz"
    And the operator imports "log.jsonl.gz" into an empty store
    Then the new store holds the same events in the same order
    And verifying the new store finds nothing wrong

  Scenario: A damaged export is refused with its line and nothing is imported
    Given the operator has exported the log to "log.jsonl"
    And line 7 of "log.jsonl" is cut in half
    When the operator imports "log.jsonl" into an empty store
    Then the import fails naming line 7
    And the new store is empty

  Scenario: The history of a task shows each event and who caused it
    When the operator asks for the history of the first task
    Then it lists the task's events in version order
    And each event shows its actor "simulator"

  Scenario: Time travel shows a task as it was at its first version
    When the operator asks for the state of the first task at version 1
    Then the state is a Task at version 1 with status "created"

  Scenario: Verify finds a hole in the log
    Given an event in the middle of the log has been deleted behind swarmlog's back
    When the operator verifies the log
    Then verify fails and reports a "version_gap"

  Scenario: Replaying a range into a read model shows a damaged row, then repairs it
    Given the worker has caught up
    And a task's row in the tasks read model was damaged
    When the operator replays the log into "tasks" as a dry run
    Then the damaged row is shown as an update of "status"
    And the tasks read model is still damaged
    When the operator replays the log into "tasks"
    Then the tasks read model is whole again

  Scenario: A policy can only be replayed as a dry run
    When the operator replays the log into "agent_workload" as a dry run
    Then the commands it would issue are listed
    And replaying "agent_workload" for real is refused
