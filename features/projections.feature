Feature: Read models an operator can inspect, rebuild and repair
  Every screen reads a read model that projections build from the event log.
  An operator sees how far behind each one is, rebuilds one without readers
  ever seeing it empty, and deals with events a read model could not apply.

  Background:
    Given a swarm that has worked through 20 tasks

  Scenario: The status lists every read model and how far behind it is
    When the operator asks for the status of the projections
    Then every read model is listed
    And every read model is behind by the whole log

  Scenario: The worker brings every read model up to date
    When the worker has caught up
    And the operator asks for the status of the projections
    Then every read model is up to date

  Scenario: Rebuilding a read model swaps in a new generation with the same content
    Given the worker has caught up
    When the operator rebuilds the "agents" read model
    Then the "agents" read model is on generation 2
    And the read models hold what they held before

  Scenario: Rebuilding every read model at once
    Given the worker has caught up
    When the operator rebuilds every read model
    Then every read model is on generation 2
    And the read models hold what they held before

  Scenario: Resetting a read model empties it and builds it again from the start
    Given the worker has caught up
    When the operator resets the "tasks" read model
    Then every read model is up to date
    And the read models hold what they held before

  Scenario: An event a read model cannot apply is parked and the rest flows on
    Given a read model that cannot apply agents named "poison"
    And an agent named "poison" has been spawned
    When the worker has caught up
    Then the "fragile" read model has 1 dead letter
    And the dead letters list an "Agent.Spawned" event of "fragile"
    And the "fragile" read model is up to date

  Scenario: A parked event is applied once its fault is fixed
    Given a read model that cannot apply agents named "poison"
    And an agent named "poison" has been spawned
    And the worker has caught up
    When the fault is fixed and the operator retries the dead letter of "fragile"
    Then the "fragile" read model has 0 dead letters
    And the "fragile" read model shows the agent "poison"

  Scenario: A parked event can be skipped for good
    Given a read model that cannot apply agents named "poison"
    And an agent named "poison" has been spawned
    And the worker has caught up
    When the operator skips the dead letter of "fragile"
    Then the "fragile" read model has 0 dead letters
    And the dead letters list a skipped event of "fragile"
