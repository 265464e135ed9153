#!/usr/bin/env bash
# Installs RabbitMQ from Debian's packages when it is not there yet. The benchmark never uses the
# system service: it runs a node of its own (see RabbitMqNode.java).
# Without systemd, Debian's postinst cannot start the service (policy-rc.d or no runlevel), but it
# leaves the Erlang port mapper (epmd) it started on port 4369; we stop that one again so that
# nothing of the install keeps running.
set -euo pipefail

if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "[bench] RabbitMQ is not installed and we are not root: run 'sudo apt-get install -y rabbitmq-server' first" >&2
  exit 1
fi
epmd_before=0
if command -v epmd >/dev/null && epmd -names >/dev/null 2>&1; then
  epmd_before=1
fi
echo "[bench] installing rabbitmq-server from Debian's packages..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q rabbitmq-server >&2

# Where the postinst did start the service (a machine with systemd or sysvinit), stop it: it would
# compete for the cores with the brokers under test.
if command -v service >/dev/null && service rabbitmq-server status >/dev/null 2>&1; then
  service rabbitmq-server stop >&2 || true
fi
# The install's epmd, if it started one and no node uses it.
if [[ $epmd_before -eq 0 ]] && epmd -names 2>/dev/null | grep -q "up and running" \
    && ! epmd -names 2>/dev/null | grep -q "^name "; then
  epmd -kill >/dev/null 2>&1 || true
fi
