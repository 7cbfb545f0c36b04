Feature: Task lifecycle
  As an operator of agent swarms
  I want tasks to be queued, handed to suitable agents and followed to their end
  So that every piece of work is done once, by an agent that can do it

  Rule: A new task waits in the queue, or is blocked while its dependencies are open

    Scenario: Creating a task queues it
      When I create a task "parse logs"
      Then "parse logs" is queued
      And "parse logs" has no agent

    Scenario: A task is blocked until every dependency has completed
      Given an agent named "ada", a coder with capabilities sql
      And a task "design schema"
      And a task "seed data"
      When I create a task "migrate" depending on "design schema" and "seed data"
      Then "migrate" is blocked
      When "ada" completes "design schema"
      Then "migrate" is still blocked
      When "ada" completes "seed data"
      Then "migrate" is queued

    Scenario: A blocked task cannot be assigned
      Given an agent named "ada", a coder with capabilities sql
      And a task "design schema"
      And a task "migrate" depending on "design schema"
      When I assign "migrate" to "ada"
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "migrate" is still blocked

    Scenario: A task whose dependencies have already completed is queued at once
      Given an agent named "ada", a coder with capabilities sql
      And "design schema" has been completed by "ada"
      When I create a task "migrate" depending on "design schema"
      Then "migrate" is queued

    Scenario: A task cannot depend on a task that does not exist
      When I create a task "migrate" depending on a task that does not exist
      Then it is refused with "NOT_FOUND"
      And nothing was recorded

  Rule: A strategy picks the agent, and the choice is recorded

    Background:
      Given these agents:
        | name | type       | capabilities |
        | ada  | coder      | python, sql  |
        | bob  | documenter | docs         |
        | cy   | tester     | testing      |
      And a mesh swarm named "crew" whose members are "ada", "bob" and "cy"

    Scenario: Capability match picks the agent with the required capabilities
      Given a task "migrate" requiring sql
      When I assign "migrate" within "crew" by capability match
      Then "migrate" is assigned to "ada"
      And the choice for "migrate" was recorded as "capability" with a score of 1.0
      And "ada" holds "migrate"
      And "ada" is working

    Scenario: Least loaded picks the agent with the most room
      Given "ada" is working on "parse logs"
      And "write guide" has been assigned to "bob"
      And a task "migrate" requiring sql
      When I assign "migrate" within "crew" by least loaded
      Then "migrate" is assigned to "cy"
      And the choice for "migrate" was recorded as "least_loaded" with a score of 1.0

    Scenario: Round robin takes turns through the swarm
      Given a task "one"
      And a task "two"
      And a task "three"
      And a task "four"
      When I assign "one" within "crew" by round robin
      And I assign "two" within "crew" by round robin
      And I assign "three" within "crew" by round robin
      And I assign "four" within "crew" by round robin
      Then "one", "two" and "three" went to three different agents
      And "four" went to the same agent as "one"
      And the choice for "four" was recorded as "round_robin"

    Scenario: Assigning to a named agent is recorded as manual
      Given a task "migrate" requiring sql
      When I assign "migrate" to "bob"
      Then "migrate" is assigned to "bob"
      And the choice for "migrate" was recorded as "manual" with a score of 0.4

    Scenario: No member can take more work
      Given an agent named "solo", a coder with capabilities sql and a maximum load of 1
      And a mesh swarm named "lonely" whose members are "solo"
      And "parse logs" has been assigned to "solo"
      And a task "migrate" requiring sql
      When I assign "migrate" within "lonely" by capability match
      Then it is refused with "CAPACITY_EXCEEDED"
      And nothing was recorded
      And "migrate" is still queued

  Rule: An assigned task runs, reports progress and completes

    Background:
      Given an agent named "ada", a coder with capabilities python

    Scenario: Starting an assigned task
      Given "parse logs" has been assigned to "ada"
      When I start "parse logs"
      Then "parse logs" is running
      And "ada" is working

    Scenario: Progress never goes backwards
      Given "ada" is working on "parse logs"
      When "parse logs" reports 40% progress
      And "parse logs" reports 70% progress
      Then "parse logs" is 70% done
      When "parse logs" reports 50% progress
      Then it is refused with "VALIDATION"
      And nothing was recorded
      And "parse logs" is 70% done

    Scenario: Completing a task frees its agent
      Given "ada" is working on "parse logs"
      When "parse logs" completes
      Then "parse logs" is completed
      And "parse logs" is 100% done
      And "ada" holds no tasks
      And "ada" is ready

    Scenario Outline: A task only moves on from the right status
      Given a task "job" that is <status>
      When <action>
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "job" is still <status>

      Examples:
        | status    | action                      |
        | queued    | I start "job"               |
        | queued    | "job" reports 10% progress  |
        | assigned  | "job" completes             |
        | running   | I retry "job"               |
        | completed | I cancel "job"              |
        | completed | "job" fails                 |
        | cancelled | I start "job"               |
        | timed out | I retry "job"               |

  Rule: A failed task is retried until it runs out of retries

    Background:
      Given an agent named "ada", a coder with capabilities python

    Scenario: A failed task frees its agent and goes back to the queue on retry
      Given a task "flaky" that may be retried 2 times
      And "ada" is working on "flaky"
      When "flaky" fails
      Then "flaky" is failed
      And "ada" holds no tasks
      When I retry "flaky"
      Then "flaky" is queued
      And "flaky" has been retried 1 time
      And "flaky" has no agent

    Scenario Outline: A task is retried at most <max> times
      Given a task "flaky" that may be retried <max> times
      And "flaky" has failed and been retried <max> times by "ada"
      And "ada" is working on "flaky"
      When "flaky" fails again
      And I retry "flaky"
      Then it is refused with "RETRIES_EXHAUSTED"
      And nothing was recorded
      And "flaky" is still failed

      Examples:
        | max |
        | 0   |
        | 1   |
        | 3   |

  Rule: A task can be cancelled, or timed out once its time is up

    Background:
      Given an agent named "ada", a coder with capabilities python

    Scenario: Cancelling a queued task
      Given a task "parse logs"
      When I cancel "parse logs"
      Then "parse logs" is cancelled

    Scenario: Cancelling a running task frees its agent
      Given "ada" is working on "parse logs"
      When I cancel "parse logs"
      Then "parse logs" is cancelled
      And "ada" holds no tasks
      And "ada" is ready

    Scenario: A running task times out once its timeout has passed
      Given a task "crawl" with a timeout of 60 seconds
      And "ada" is working on "crawl"
      When 30 seconds pass
      And I time out "crawl"
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "crawl" is still running
      When 31 seconds pass
      And I time out "crawl"
      Then "crawl" is timed out
      And "ada" holds no tasks
