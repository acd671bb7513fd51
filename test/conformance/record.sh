#!/usr/bin/env bash
# Re-record the "expect" trace of one, several or all conformance scenarios on real OTP 25 / Elixir 1.14.
#
#   test/conformance/record.sh                          # every scenarios/*.json, 3 agreeing runs each
#   test/conformance/record.sh scenarios/012_x.json     # just this one
#   test/conformance/record.sh --runs 5 FILE...         # demand more agreeing runs
#   test/conformance/record.sh --check [FILE...]        # only compare with the stored expect, write nothing
#
# Needs `elixir` (apt-get install -y elixir erlang-nox). The oracle defaults to
# test/conformance/oracle/otp_scenario_runner.exs (the repo copy); set OTP_ORACLE to use another copy.
# any_order groups and t_min bounds are not guessed: they come from hints.json (see README.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v elixir >/dev/null || { echo "elixir not found: apt-get install -y elixir erlang-nox" >&2; exit 2; }
exec /usr/bin/python3 "$here/record.py" "$@"
