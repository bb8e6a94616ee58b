#!/usr/bin/env bash
# browser-test.sh: the page test (scripts/browser/page.test.mjs) in headless
# Chromium. Installs chromium (apt) and playwright-core (npm, into
# .cache/browser/) when missing and builds www/ first; see bench-browser.sh.
#   scripts/browser-test.sh [--no-build]
exec "$(dirname "${BASH_SOURCE[0]}")/bench-browser.sh" --smoke "$@"
