#!/bin/sh
# ThuGate side by side with clamsmtp + clamd and Postfix + clamav-milter (issue 14): see peers.py.
#   sudo Benchmarks/peers.sh --connections 1,10,50 --seconds 10 --reps 2 --markdown peers.md
exec python3 "$(dirname "$0")/peers.py" "$@"
