#!/usr/bin/env bash
# Regenerates docs/cli.md from the built CLI's own --help, so the reference cannot drift from the code.
# Run after `npm run build`: `npm run docs:cli`. test/cli/cli-doc.test.ts fails when the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
commands="init backup snapshots restore nbd copy clone migrate-server forget prune check diff stats run drives key index unlock cat emulator benchmark"
{
  cat scripts/cli-doc-head.md
  printf '## `drivesnap --help`\n\n```\n'
  COLUMNS=110 node dist/cli/main.js --help
  printf '```\n\n'
  for c in $commands; do
    printf '## `drivesnap %s`\n\n```\n' "$c"
    COLUMNS=110 node dist/cli/main.js "$c" --help
    printf '```\n\n'
  done
} > docs/cli.md
