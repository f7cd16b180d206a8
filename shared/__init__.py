"""The small kernel every service uses: settings, db, events, outbox/inbox, transport,
auth, metrics, errors, credit-code check. No domain logic of any single service lives here."""
