# Acceptance scenarios for the Store Management context.
# In this workspace, the C end-to-end tests (chapter 03 onward) run these scenarios against
# the REST API: "create" is POST /api/stores with {"name": ..., "location": ...}, and
# "a store named X exists" is checked by reading the store back with GET /api/stores/{id}.
# A failure answers HTTP 400, and the error text must match exactly.

Feature: Create a store
  In order to sell through the mall's kiosks
  As a store owner
  I want to register my store with MallBots

  Background:
    Given I am a store owner

  Scenario: A store with a name and a location is created
    Given there is no store named "Waldorf Books"
    When I create a store named "Waldorf Books" located at "West Upper Level"
    Then the store is created
    And a store named "Waldorf Books" exists

  Scenario: A store without a name is rejected
    When I create a store named "" located at "West Upper Level"
    Then the store is not created
    And I am told "the store name cannot be blank"
