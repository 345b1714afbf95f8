"""`playbook ...`: every play from the command line, with --json for scripts."""
