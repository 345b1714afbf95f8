#!/usr/bin/env bash
# `make walkthrough`: walk all seven plays against a fresh local SQLite registry in .playbook-demo/.
# Every line it runs is a plain `playbook` command you can type yourself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
demo="$(realpath -m "${PLAYBOOK_DEMO_DIR:-$here/../.playbook-demo}")"
rm -rf "$demo" && mkdir -p "$demo" && cd "$demo"
cp "$here/playbook.toml" . && cp "$here/../bot/cli/starter_eval.py" eval_suite.py
export PLAYBOOK_USER=U0ANA

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
refused() { printf '$ %s   # expected refusal\n' "$*"; if "$@"; then echo "!! expected a refusal"; exit 1; fi; }
shown() { printf '$ %s\n' "$*" >&2; "$@"; }  # a command whose answer the script keeps
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

say "Play 1: register (the eval suite runs through eval_suite.py)"
v1=$(shown playbook --json register support --root --owner U0ANA --reason "first prompt" \
  --prompt "Be polite. Escalate to a human when unsure." --model-config '{"temperature": 0.2}' | id_of short)
echo "registered $v1"
v2=$(shown playbook --json register support --parent "$v1" --owner U0ANA --reason "cite sources" \
  --prompt "Be polite. Cite sources. Escalate to a human when unsure." \
  --model-config '{"temperature": 0.2}' | id_of short)
run playbook register support --parent "$v1" --owner U0ANA --reason "same content again" \
  --prompt "Be polite. Cite sources. Escalate to a human when unsure." \
  --model-config '{"temperature": 0.20}'
refused playbook register support --owner U0ANA --reason "no parent" --prompt "x"

say "Play 2: promote (low stakes: the production tag moves at once)"
run playbook promote support "$v1" --reason "first release"
run playbook promote support "$v2" --reason "better rubric coverage"
refused playbook promote support "$v1" --reason "worse than production"

say "Play 4: experiment on a branch with short retention"
run playbook experiment support hot-temp --parent "$v2" --owner U0ANA --reason "try warmer sampling" \
  --prompt "Be polite. Cite sources. Escalate to a human when unsure." \
  --model-config '{"temperature": 0.9}' --artifact "$here/eval_suite.py"

say "A release whose CI-supplied score hides a regression"
v3=$(shown playbook --json register support --parent "$v2" --owner U0ANA --reason "shorter prompt" \
  --prompt "Be concise." --model-config '{"temperature": 1.1}' --score score=0.97 | id_of short)
run playbook promote support "$v3" --reason "CI says 0.97"
printf '{"request_id":"req-1","model":"support","version":"%s","latency_ms":120}\n{"request_id":"req-2","model":"support","version":"%s","error":true}\n' "$v3" "$v3" > served.jsonl
run playbook attribute served.jsonl

say "Play 7: investigate (diff of the composite, eval re-run on both)"
run playbook investigate support --since now

say "Play 3: emergency rollback to the last known-good version"
run playbook rollback support --symptom "answers got vague and rude"
run playbook history support --tag production

say "Play 5: audit (which version served req-2, and what production is now, from the event log)"
run playbook audit req-2
run playbook audit --model support --at now

say "Play 2 with high stakes: a second person must approve"
t1=$(shown playbook --json register triage --root --owner U0ANA --reason "first triage prompt" \
  --prompt "Be polite, concise, cite sources, escalate." | id_of short)
req=$(shown playbook --json promote triage "$t1" --reason "launch" | python3 -c 'import json,sys; print(json.load(sys.stdin)["request"]["id"])')
echo "approval request $req"
refused playbook approve "$req"
run playbook --as U0BEN approve "$req"
refused playbook --as U0CHO approve "$req"

say "Play 6: garbage collection (nothing is past retention yet)"
run playbook gc --dry-run

say "Play 3 rehearsed: roll back the rehearsal tag (never production), timed"
run playbook rehearse support
run playbook tags support

say "The daily digest (printed here; \`playbook serve\` posts it on schedule)"
run playbook jobs
run playbook digest --now --print

say "Every run is recorded"
run playbook runs --limit 8
printf '\nDone. The registry is in %s/.playbook; try `source .venv/bin/activate; cd %s && playbook versions support`.\n' "$demo" "$demo"
