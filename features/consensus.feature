Feature: Consensus
  As an operator of agent swarms
  I want the members of a swarm to decide proposals by the protocol I choose
  So that a swarm acts only on what enough of its members agree on

  Background:
    Given a mesh swarm named "council" whose members are "ann", "ben", "cat", "dan" and "eve"

  Rule: Count-based protocols decide as soon as the quorum is reached or out of reach

    Scenario Outline: A <protocol> vote among five members: <votes>
      When "ann" proposes "adopt postgres" to "council" by <protocol> vote
      And the members vote: <votes>
      Then "adopt postgres" is <outcome>
      And the tally shows <for> for and <against> against
      And the confidence is <confidence> and the vote was <unanimity>

      Examples:
        | protocol      | votes                                       | outcome  | for | against | confidence | unanimity     |
        | majority      | ann yes, ben yes, cat yes                   | accepted | 3   | 0       | 0.6        | not unanimous |
        | majority      | ann yes, ben no, cat yes, dan yes           | accepted | 3   | 1       | 0.6        | not unanimous |
        | majority      | ann yes, ben no, cat no, dan no             | rejected | 1   | 3       | 0.6        | not unanimous |
        | supermajority | ann yes, ben yes, cat yes, dan yes          | accepted | 4   | 0       | 0.8        | not unanimous |
        | supermajority | ann yes, ben no, cat no                     | rejected | 1   | 2       | 0.4        | not unanimous |
        | unanimous     | ann yes, ben yes, cat yes, dan yes, eve yes | accepted | 5   | 0       | 1.0        | unanimous     |
        | unanimous     | ann yes, ben yes, cat no                    | rejected | 2   | 1       | 0.2        | not unanimous |

    Scenario: A proposal stays open while the quorum is still within reach
      When "ann" proposes "adopt postgres" to "council" by supermajority vote
      And the members vote: ann yes, ben yes, cat no
      Then "adopt postgres" is open
      When "dan" votes yes
      Then "adopt postgres" is open
      When "eve" votes yes
      Then "adopt postgres" is accepted
      And the tally shows 4 for and 1 against

  Rule: Byzantine agreement needs 2f+1 approvals in a prepare round, then in a commit round

    Scenario: Five members tolerate one fault and need three approvals in each round
      When "ann" proposes "adopt postgres" to "council" by byzantine vote
      And the members vote in the prepare round: ann yes, ben yes
      Then "adopt postgres" is open
      And it is in the prepare round
      When the members vote in the prepare round: cat yes
      Then "adopt postgres" is open
      And it is in the commit round
      When the members vote in the commit round: ann yes, ben yes
      Then "adopt postgres" is open
      When the members vote in the commit round: dan yes
      Then "adopt postgres" is accepted
      And the tally shows 3 for and 0 against

    Scenario Outline: A Byzantine proposal is rejected in the <round> round
      When "ann" proposes "adopt postgres" to "council" by byzantine vote
      And the members vote in the prepare round: <prepare>
      And the members vote in the commit round: <commit>
      Then "adopt postgres" is rejected
      And it is in the <round> round
      And the tally shows <for> for and <against> against

      Examples:
        | prepare                           | commit                          | round   | for | against |
        | ann no, ben no, cat no            | nobody                          | prepare | 0   | 3       |
        | ann yes, ben no, cat yes, dan yes | ann yes, ben no, cat no, dan no | commit  | 1   | 3       |

    Scenario: Each member votes once in each round
      When "ann" proposes "adopt postgres" to "council" by byzantine vote
      And the members vote in the prepare round: ann yes
      And "ann" votes yes again
      Then it is refused with "ALREADY_VOTED"
      And nothing was recorded

  Rule: A weighted vote counts each member by its expertise from past votes

    Background:
      Given "ann" proposed "use sqlite" to "council" by majority vote
      And the members voted: ann yes, ben yes, cat no, dan no, eve no

    Scenario: Agreeing with past decisions earns expertise
      Then "use sqlite" is rejected
      And the expertise of "cat", "dan" and "eve" is about 0.81
      And the expertise of "ann" and "ben" is about 0.21

    Scenario Outline: Expert members outweigh the others: <votes>
      When "ann" proposes "adopt postgres" to "council" by weighted vote
      And the members vote: <votes>
      Then "adopt postgres" is <outcome>
      And the tally shows <for> for and <against> against
      And the confidence is <confidence> and the vote was not unanimous

      Examples:
        | votes                                     | outcome  | for | against | confidence |
        | cat yes, dan yes                          | accepted | 2   | 0       | 0.57       |
        | ann yes, ben yes, cat yes, dan no, eve no | rejected | 3   | 2       | 0.57       |

    Scenario: Three approvals of five are not enough when the experts have not agreed
      When "ann" proposes "adopt postgres" to "council" by weighted vote
      And the members vote: ann yes, ben yes, cat yes
      Then "adopt postgres" is open

  Rule: Only participants vote, once, and only while the proposal is open

    Scenario: An agent outside the swarm cannot vote
      Given an agent named "zed", a researcher with capabilities research
      And "ann" proposed "adopt postgres" to "council" by majority vote
      When "zed" votes yes
      Then it is refused with "NOT_PARTICIPANT"
      And nothing was recorded

    Scenario: A member who joined after the proposal was made cannot vote on it
      Given a mesh swarm named "small" whose members are "ann" and "ben"
      And "ann" proposed "adopt postgres" to "small" by majority vote
      And "cat" has joined "small"
      When "cat" votes yes
      Then it is refused with "NOT_PARTICIPANT"
      And nothing was recorded

    Scenario: Only a member can make a proposal
      Given an agent named "zed", a researcher with capabilities research
      When "zed" proposes "adopt postgres" to "council" by majority vote
      Then it is refused with "NOT_PARTICIPANT"
      And nothing was recorded

    Scenario: A member votes only once
      Given "ann" proposed "adopt postgres" to "council" by majority vote
      And the members voted: ann yes
      When "ann" votes no
      Then it is refused with "ALREADY_VOTED"
      And nothing was recorded
      And "adopt postgres" is still open

    Scenario: No vote is taken after the decision
      Given "ann" proposed "adopt postgres" to "council" by majority vote
      And the members voted: ann yes, ben yes, cat yes
      When "dan" votes no
      Then it is refused with "PROPOSAL_CLOSED"
      And nothing was recorded
      And "adopt postgres" is still accepted
      And the tally shows 3 for and 0 against

  Rule: A proposal not decided by its deadline expires with its tally

    Background:
      Given "ann" proposed "adopt postgres" to "council" by majority vote, open for 600 seconds
      And the members voted: ann yes, ben no

    Scenario: Closing a proposal after its deadline
      Given 601 seconds have passed
      When I close "adopt postgres" as expired
      Then "adopt postgres" is expired
      And the tally shows 1 for and 1 against
      And the confidence is 0.0 and the vote was not unanimous

    Scenario: No vote is taken after the deadline
      Given 600 seconds have passed
      When "cat" votes yes
      Then it is refused with "PROPOSAL_CLOSED"
      And nothing was recorded

    Scenario: A proposal cannot be closed before its deadline
      Given 599 seconds have passed
      When I close "adopt postgres" as expired
      Then it is refused with "INVALID_TRANSITION"
      And nothing was recorded
      And "adopt postgres" is still open

  Rule: An accepted proposal's action is carried out

    Scenario Outline: A proposal to scale the swarm
      When "ann" proposes "grow the council" to "council" by majority vote, to scale it to 8 agents
      And the members vote: <votes>
      Then "grow the council" is <outcome>
      And "council" takes at most <limit> agents

      Examples:
        | votes                     | outcome  | limit |
        | ann yes, ben yes, cat yes | accepted | 8     |
        | ann no, ben no, cat no    | rejected | 10    |
