Feature: Swarm topology
  As an operator of agent swarms
  I want agents arranged in the topology I chose for a swarm
  So that work and messages flow along short, balanced routes

  Background:
    Given these agents:
      | name | type        | capabilities  |
      | lead | coordinator | planning, sql |
      | py   | coder       | python        |
      | db   | analyst     | sql           |
      | ada  | coder       | python        |
      | ivy  | coder       | python        |
      | kit  | coder       | python        |

  Rule: In a hierarchy a joining agent goes under the best-scoring parent, within the limits

    Scenario: Capability match and spare capacity decide where an agent is placed
      # "db" shares sql with "lead"; "ivy" prefers the fellow python coder over an empty slot
      Given a hierarchical swarm named "tree" with a maximum depth of 3 and a branching factor of 2
      When "lead", "py", "db", "ada", "ivy" and "kit" join "tree" in that order
      Then the hierarchy of "tree" is:
        | agent | parent | depth |
        | lead  |        | 0     |
        | py    | lead   | 1     |
        | db    | lead   | 1     |
        | ada   | py     | 2     |
        | ivy   | py     | 2     |
        | kit   | db     | 2     |
      And the leader of "tree" is "lead"

    Scenario: A full hierarchy refuses another agent
      Given a hierarchical swarm named "tree" with a maximum depth of 2 and a branching factor of 2
      And "lead", "py" and "db" have joined "tree" in that order
      When "ada" joins "tree"
      Then it is refused with "CAPACITY_EXCEEDED"
      And nothing was recorded
      And "tree" has 3 members

    Scenario: Children of a leaving node are placed again
      Given a hierarchical swarm named "tree" with a maximum depth of 3 and a branching factor of 2
      And "lead", "py", "db", "ada", "ivy" and "kit" have joined "tree" in that order
      When "py" leaves "tree"
      Then the hierarchy of "tree" is:
        | agent | parent | depth |
        | lead  |        | 0     |
        | db    | lead   | 1     |
        | ada   | lead   | 1     |
        | ivy   | ada    | 2     |
        | kit   | db     | 2     |

    Scenario: The root of a hierarchy leaving hands the tree to its first child
      Given a hierarchical swarm named "tree" with a maximum depth of 3 and a branching factor of 2
      And "lead", "py" and "db" have joined "tree" in that order
      When "lead" leaves "tree"
      Then the leader of "tree" is "py"
      And the hierarchy of "tree" is:
        | agent | parent | depth |
        | py    |        | 0     |
        | db    | py     | 1     |

  Rule: The optimal path between two members follows the topology

    Scenario Outline: Paths in a <topology> swarm
      Given a <topology> swarm named "net" whose members are "ann", "ben", "cat", "dan" and "eve"
      When I ask for the path from "<from>" to "<to>" in "net"
      Then the path is <path>

      Examples:
        | topology     | from | to  | path               |
        | mesh         | ann  | eve | ann, eve           |
        | mesh         | dan  | ben | dan, ben           |
        | ring         | ann  | cat | ann, ben, cat      |
        | ring         | ann  | dan | ann, eve, dan      |
        | ring         | ben  | eve | ben, ann, eve      |
        | star         | ben  | dan | ben, ann, dan      |
        | star         | ann  | eve | ann, eve           |
        | hierarchical | cat  | eve | cat, ben, ann, dan, eve |

  Rule: A swarm always has a leader

    Scenario Outline: The leader of a <topology> swarm leaving elects the earliest remaining member
      Given a <topology> swarm named "net" whose members are "ann", "ben", "cat" and "dan"
      When "ann" leaves "net"
      Then the leader of "net" is "ben"
      And "net" has 3 members

      Examples:
        | topology |
        | mesh     |
        | ring     |
        | star     |

    Scenario: A star routes through its new hub once the old one left
      Given a star swarm named "net" whose members are "ann", "ben", "cat" and "dan"
      When "ann" leaves "net"
      And I ask for the path from "cat" to "dan" in "net"
      Then the path is cat, ben, dan

  Rule: A swarm never has more members than its limit

    Scenario: A full swarm refuses another agent
      Given a mesh swarm named "crew" of at most 2 agents whose members are "ann" and "ben"
      When "cat" joins "crew"
      Then it is refused with "CAPACITY_EXCEEDED"
      And nothing was recorded
      And "crew" has 2 members

    Scenario: Scaling below the number of members is refused
      Given a mesh swarm named "crew" whose members are "ann", "ben" and "cat"
      When I scale "crew" to 2 agents
      Then it is refused with "CAPACITY_EXCEEDED"
      And nothing was recorded
      And "crew" takes at most 10 agents

    Scenario: Scaling down to exactly the members fills the swarm
      Given a mesh swarm named "crew" whose members are "ann", "ben" and "cat"
      When I scale "crew" to 3 agents
      Then "crew" takes at most 3 agents
      When "dan" joins "crew"
      Then it is refused with "CAPACITY_EXCEEDED"

  Rule: A shut down swarm takes no more members

    Scenario: Joining a shut down swarm is refused
      Given a mesh swarm named "crew" whose members are "ann" and "ben"
      When I shut down "crew"
      Then "crew" is shut down
      When "cat" joins "crew"
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "crew" has 2 members

    Scenario: Members may still leave a shut down swarm
      Given a mesh swarm named "crew" whose members are "ann" and "ben"
      And "crew" has been shut down
      When "ben" leaves "crew"
      Then "crew" has 1 member

    Scenario: A shut down swarm cannot be scaled
      Given a mesh swarm named "crew" whose members are "ann" and "ben"
      And "crew" has been shut down
      When I scale "crew" to 5 agents
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded

  Rule: The load distribution shows how evenly a swarm's work is spread

    Scenario: Load distribution of a swarm
      Given a mesh swarm named "crew" whose members are "ann", "ben" and "cat"
      And "ann" is working on "parse logs"
      And "ann" is working on "index docs"
      And "lint code" has been assigned to "ben"
      When I look at the load distribution of "crew"
      Then the loads are:
        | agent | load |
        | ann   | 2    |
        | ben   | 1    |
        | cat   | 0    |
      And the total load is 3, the mean 1, the highest 2 and the lowest 0
      And the imbalance is about 0.82

    Scenario: An idle swarm is perfectly balanced
      Given a mesh swarm named "crew" whose members are "ann" and "ben"
      When I look at the load distribution of "crew"
      Then the total load is 0, the mean 0, the highest 0 and the lowest 0
      And the imbalance is about 0.00
