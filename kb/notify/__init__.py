"""Push delivery: subscriptions, matching new documents, the outbox and its channels."""
