#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml) and of the GitLab CI example (docs/ci.md): make an SBOM of a
# project folder, optionally fill the knowledge base, scan, and report. Inputs come from the environment
# (the action maps its `with:` inputs onto them), so the script runs the same anywhere:
#   INPUT_PATH           project folder or lockfile (default .)
#   INPUT_SBOM           SBOM file to write (default mamori-sbom.cdx.json)
#   INPUT_SBOM_CHECK     fail | warn | off: run `mamori sbom check` on it (default warn)
#   INPUT_IMPORT         vulnerability data to import first (file, folder, zip or URL; optional)
#   INPUT_SNAPSHOT       knowledge-base snapshot to import first (`mamori db snapshot export`; optional)
#   INPUT_SYNC           true: `mamori db sync` first (needs the network; default false)
#   INPUT_FAIL_ON        low | medium | high | critical | kev: exit 1 at that severity (default: none)
#   INPUT_FORMAT         report format of `mamori scan` (default sarif)
#   INPUT_OUTPUT         report file (default mamori.sarif)
#   INPUT_ALLOW_PARTIAL  true: a partial knowledge base warns instead of exiting 3 (default false)
#   INPUT_ARGS           more `mamori sbom generate` options, split on spaces (e.g. --exclude-dev)
#   MAMORI               the mamori command (default mamori)
# Exit code: the scan's (0 clean, 1 gate fired, 2 bad input, 3 cannot judge), or the first failing step's.
# On GitHub, sbom= and report= go to $GITHUB_OUTPUT and a summary to $GITHUB_STEP_SUMMARY.
set -euo pipefail

mamori=${MAMORI:-mamori}
path=${INPUT_PATH:-.}
sbom=${INPUT_SBOM:-mamori-sbom.cdx.json}
check=${INPUT_SBOM_CHECK:-warn}
format=${INPUT_FORMAT:-sarif}
output=${INPUT_OUTPUT:-mamori.sarif}
fail_on=${INPUT_FAIL_ON:-}

case "$check" in fail | warn | off) ;; *)
  echo "mamori action: sbom-check: expected fail, warn or off, got '$check'" >&2
  exit 2
  ;;
esac

read -r -a extra <<<"${INPUT_ARGS:-}"
"$mamori" sbom generate "$path" -o "$sbom" "${extra[@]}"

if [ "$check" != off ]; then
  if ! "$mamori" sbom check "$sbom"; then
    if [ "$check" = fail ]; then
      echo "mamori action: $sbom misses NTIA minimum elements (sbom-check: fail)" >&2
      exit 1
    fi
    echo "mamori action: warning: $sbom misses NTIA minimum elements (see above)" >&2
  fi
fi

if [ -n "${INPUT_SNAPSHOT:-}" ]; then
  "$mamori" db snapshot import "$INPUT_SNAPSHOT"
fi
if [ -n "${INPUT_IMPORT:-}" ]; then
  "$mamori" db import "$INPUT_IMPORT"
fi
if [ "${INPUT_SYNC:-false}" = true ]; then
  "$mamori" db sync
fi

args=(scan "$sbom" --format "$format" --output "$output")
[ -n "$fail_on" ] && args+=(--fail-on "$fail_on")
[ "${INPUT_ALLOW_PARTIAL:-false}" = true ] && args+=(--allow-partial)
rc=0
"$mamori" "${args[@]}" || rc=$?

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "sbom=$sbom"; echo "report=$output"; echo "exit-code=$rc"; } >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  { echo "### mamori"; echo; echo "- SBOM: \`$sbom\`"; echo "- Report ($format): \`$output\`"; echo "- Exit code: $rc"; } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
