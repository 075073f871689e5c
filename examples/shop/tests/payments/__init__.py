"""Payment tests: card logic, gateway, ledger and idempotency."""
