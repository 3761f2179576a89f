#!/usr/bin/env bash
# Debian packages the tests need that a fresh machine lacks: chromium (browser tests), the
# PostgreSQL server binaries (tests/pgserver.py starts a throwaway cluster; no system service is
# used), and the speech synthesisers that render the robustness corpus (espeak-ng, flite,
# festival with two diphone voices; assist/bench/voices.py), Redis and HAProxy for the cluster
# (scripts/cluster.py starts its own servers on loopback; no system service is used) and a CJK
# font so Chinese names render in the pages.
# Idempotent: installs only what is missing. Needs root (CI runs as root) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v flite >/dev/null 2>&1 || need+=(flite)
command -v text2wave >/dev/null 2>&1 || need+=(festival)
[ -d /usr/share/festival/voices/english/kal_diphone ] || need+=(festvox-kallpc16k)
[ -d /usr/share/festival/voices/english/ked_diphone ] || need+=(festvox-kdlpc16k)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v npm >/dev/null 2>&1 || need+=(npm)  # axe-core for the pages' accessibility checks
[ -d /usr/share/fonts/opentype/noto ] && compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: need root to install: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
