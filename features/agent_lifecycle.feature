Feature: Agent lifecycle
  As an operator of agent swarms
  I want every agent to move through a well-defined lifecycle
  So that I always know what an agent can do and what work it holds

  Rule: A spawned agent is ready to work at once

    Scenario: Spawning an agent
      When I spawn an agent named "ada", a coder with capabilities python, sql
      Then "ada" is ready
      And "ada" is a coder with capabilities python and sql
      And "ada" holds no tasks

    Scenario Outline: Spawning with invalid input is refused
      When I spawn an agent named "zed", <description>
      Then it is refused with "VALIDATION"
      And the refusal is about the <field>
      And nothing was recorded

      Examples:
        | description                                              | field        |
        | a pilot with capabilities python                         | agent type   |
        | a coder with no capabilities                             | capabilities |
        | a coder with capabilities python and a maximum load of 0 | max load     |

  Rule: An agent only moves along the allowed transitions

    Scenario Outline: Allowed transitions
      Given an agent named "ada" that is <from>
      When I move "ada" to <to>
      Then "ada" is <to>

      Examples:
        | from         | to           |
        | created      | initializing |
        | initializing | ready        |
        | ready        | working      |
        | ready        | paused       |
        | working      | waiting      |
        | waiting      | ready        |
        | paused       | ready        |
        | ready        | stopping     |
        | stopping     | stopped      |
        | stopped      | initializing |
        | ready        | error        |
        | error        | initializing |

    Scenario Outline: Refused transitions name the current state and the allowed ones
      Given an agent named "ada" that is <from>
      When I move "ada" to <to>
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "ada" is still <from>
      And the refusal says the agent is <from> and may become <allowed>

      Examples:
        | from       | to           | allowed                                                      |
        | created    | ready        | error, initializing, terminated                              |
        | ready      | initializing | error, paused, stopping, terminated, waiting, working        |
        | stopping   | working      | error, stopped, terminated                                   |
        | stopped    | ready        | initializing, terminated                                     |
        | error      | ready        | initializing, stopping, terminated                           |
        | terminated | ready        | nothing                                                      |
        | terminated | initializing | nothing                                                      |

    Scenario: An agent in error recovers through initializing
      Given an agent named "ada" that is error
      When I move "ada" to initializing
      And I move "ada" to ready
      Then "ada" is ready

    Scenario: Terminated is final
      Given an agent named "ada" that is terminated
      When I terminate "ada"
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "ada" is still terminated

  Rule: A paused agent resumes where it left off

    Scenario: A paused idle agent resumes ready
      Given an agent named "ada", a coder with capabilities python
      When I pause "ada"
      Then "ada" is paused
      When I resume "ada"
      Then "ada" is ready

    Scenario: A paused agent that holds tasks resumes working
      Given an agent named "ada", a coder with capabilities python
      And "parse logs" has been assigned to "ada"
      When I pause "ada"
      Then "ada" is paused
      And "ada" holds "parse logs"
      When I resume "ada"
      Then "ada" is working
      And "ada" holds "parse logs"

    Scenario: Only a paused agent can resume
      Given an agent named "ada", a coder with capabilities python
      When I resume "ada"
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "ada" is still ready

  Rule: Terminating an agent sends its open tasks back to the queue

    Scenario: Terminating an agent that holds tasks
      Given an agent named "ada", a coder with capabilities python
      And "parse logs" has been assigned to "ada"
      And "ada" is working on "index docs"
      When I terminate "ada"
      Then "ada" is terminated
      And "ada" holds no tasks
      And "parse logs" is queued
      And "parse logs" has no agent
      And "index docs" is queued
      And "index docs" has no agent

    Scenario: Terminating an idle agent
      Given an agent named "ada", a coder with capabilities python
      When I terminate "ada"
      Then "ada" is terminated

  Rule: An agent never holds more tasks than its maximum load

    Scenario: An agent at its maximum load is given no more work
      Given an agent named "ada", a coder with capabilities python and a maximum load of 1
      And "parse logs" has been assigned to "ada"
      And a task "index docs"
      When I assign "index docs" to "ada"
      Then it is refused with "CAPACITY_EXCEEDED"
      And nothing was recorded
      And "ada" holds "parse logs"
      And "index docs" is still queued

    Scenario: A strategy passes over an agent at its maximum load
      Given an agent named "ada", a coder with capabilities python and a maximum load of 1
      And an agent named "bob", a tester with capabilities testing
      And a mesh swarm named "crew" whose members are "ada" and "bob"
      And "parse logs" has been assigned to "ada"
      And a task "lint code" requiring python
      When I assign "lint code" within "crew" by capability match
      Then "lint code" is assigned to "bob"
      And "ada" holds "parse logs"
