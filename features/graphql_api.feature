Feature: The GraphQL API
  As a user of swarmlog
  I want to drive agents, swarms, tasks and proposals through the HTTP API
  So that a session over GraphQL does what the domain promises, for the roles allowed to

  Each scenario runs the real app on a free local port with a store of its own. Steps
  refer to agents, swarms, tasks and proposals by the names the scenario gives them.
  Given steps set the scene as an operator; When steps act in the scenario's role.

  Rule: An operator runs a whole session of agents, swarms, tasks and proposals

    Scenario: An operator spawns agents, forms a swarm and sees it with its members
      Given I am an operator
      When I spawn the agents "ada", "bob" and "cy"
      And I form a mesh swarm "hive" of "ada", "bob" and "cy"
      Then the swarm "hive" is a mesh of 3 members: "ada", "bob" and "cy" in that order
      And the agents "ada", "bob" and "cy" are listed in the swarm "hive"

    Scenario: An operator takes a task from creation to completion
      Given I am an operator
      And the agent "ada" has been spawned
      When I create the task "write docs"
      And I assign the task "write docs" to "ada"
      And I start the task "write docs"
      And I complete the task "write docs"
      Then the task "write docs" shows completed by "ada" at 100% progress
      And the agent "ada" shows 1 completed task and a load of 0

    Scenario: The members of a swarm vote a proposal through
      Given I am an operator
      And a mesh swarm "council" of the agents "ann", "ben" and "cat"
      When "ann" proposes "adopt postgres" to "council" by majority vote
      And "ann" votes yes on "adopt postgres"
      Then the proposal "adopt postgres" shows open with the votes of "ann"
      When "ben" votes yes on "adopt postgres"
      Then the proposal "adopt postgres" shows accepted with 2 for and 0 against
      And its votes were cast by "ann" and "ben" in that order

  Rule: Only a caller with a token of a role that may do it is served, and a refusal is audited

    Scenario: A viewer cannot spawn an agent, and only the refusal is written
      Given the agents "ada" and "bob" have been spawned
      And I am a viewer
      When I try to spawn the agent "eve"
      Then the API refuses it with "FORBIDDEN"
      And the only event written since is the record of the refusal
      And the agents listed are "ada" and "bob"

    Scenario: A request without a token is refused as unauthenticated
      Given the agent "ada" has been spawned
      And I send no token
      When I try to spawn the agent "eve"
      Then the API refuses it with "UNAUTHENTICATED"
      And the only event written since is the record of the refusal
      When I list the agents
      Then the query is refused with "UNAUTHENTICATED"

  Rule: A command the domain refuses says why, in a stable code, and writes nothing

    Scenario: A task cannot be completed before it has started
      Given I am an operator
      And the agent "ada" has been spawned
      And the task "write docs" has been created
      When I try to complete the task "write docs"
      Then the API refuses it with "INVALID_TRANSITION"
      And no event has been written since
      And the task "write docs" shows queued with no agent

  Rule: A query that asks for a position reads its own writes

    Scenario: A query with atLeast returns the entity right after its mutation
      Given I am an operator
      When I spawn the agent "ada"
      Then reading the agent "ada" at the position of that spawn shows it ready
      And the agents listed at the position of that spawn are "ada"

    Scenario: A query for a position the read models have not reached is refused after a bounded wait
      Given I am an operator
      And the read models are waited for at most 0.5 s
      When I spawn the agent "ada"
      And I list the agents at the position 1000 past that spawn
      Then the query is refused with "NOT_YET_VISIBLE"
      And the agents listed at the position of that spawn are "ada"

  Rule: Positions are 64-bit, as an EventStoreDB log's are once it passes 2 GiB

    Scenario: A log past position 2^40 is written to and read from exactly
      Given I am an operator
      And a store whose log holds the agent "ada" and has been moved past position 1099511627776
      When I spawn the agent "bob"
      Then the position of that spawn is past 1099511627776
      And reading the agent "bob" at the position of that spawn shows it ready
      And the agents listed at the position of that spawn are "ada" and "bob"
