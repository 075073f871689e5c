"""Pure-logic tests: no service at all."""
