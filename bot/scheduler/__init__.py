"""What the bot does by itself while `playbook serve` runs: the daily digest, rehearsal
reminders, the GC cycle and the expiry sweep, each posted once across replicas."""
