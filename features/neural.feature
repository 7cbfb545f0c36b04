Feature: The neural pattern engine learns from the log and helps assign work
  The engine turns finished task attempts into examples, learns which agents
  complete which tasks, keeps every model version with what it learned from, and
  recommends agents. The neural assignment strategy uses it, and says when it
  could not.

  Background:
    Given a swarm that has worked through 250 tasks

  Scenario: Training records a version with the span of the log it learned from
    When the operator trains the neural engine
    And the operator asks for the neural engine's status
    Then version 1 is listed as active, learned from the log, with its accuracy

  Scenario: An exported model imported again predicts exactly the same
    Given the neural engine has been trained
    When the operator exports the model to "shared.model"
    And the operator imports "shared.model"
    Then version 2 is active
    And its predictions equal those of version 1

  Scenario: A foreign model file is refused and the active model stays
    Given the neural engine has been trained
    When the operator imports a file that is not a model
    Then the import is refused with "MODEL_FILE_INVALID"
    And version 1 is still active

  Scenario: Without a model the neural strategy falls back and says so
    When a new task is assigned in the swarm with the "neural" strategy
    Then the task is assigned
    And its assignment note reads "fallback: no active model"

  Scenario: With a model the neural strategy follows the model
    Given the neural engine has been trained
    And the neural strategy acts on predictions of any confidence
    When a new task is assigned in the swarm with the "neural" strategy
    Then the task is assigned
    And its assignment note names model version 1

  Scenario: A prediction below the minimum confidence falls back and says so
    Given the neural engine has been trained
    And the neural strategy needs a confidence of 0.999
    When a new task is assigned in the swarm with the "neural" strategy
    Then the task is assigned
    And its assignment note says the confidence fell short of 0.999
