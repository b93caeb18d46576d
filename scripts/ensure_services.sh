#!/usr/bin/env bash
# Start local PostgreSQL and Redis when they are installed but not running, and install GNU
# gettext when it is missing, for `make test`.
# Usage: ensure_services.sh DATABASE_URL REDIS_URL. Services elsewhere are left alone.
set -euo pipefail
db_url=${1:?DATABASE_URL}
redis_url=${2:?REDIS_URL}

# The message catalogue check (tests/backend/test_translations.py) runs GNU gettext's tools.
if ! command -v msgfmt >/dev/null || ! command -v msgen >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing gettext (msgfmt, msgmerge, msgen)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
  else
    echo "GNU gettext is not installed: apt-get install gettext (or brew install gettext)" >&2
    exit 1
  fi
fi

is_local() { [[ "$1" =~ @?(127\.0\.0\.1|localhost)(:|/|$) ]]; }

if [[ "$db_url" == postgres* ]] && is_local "$db_url"; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null; then
      echo "starting local PostgreSQL"
      version=$(ls /etc/postgresql | sort -V | tail -n1)
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
    else
      echo "PostgreSQL is not running on 127.0.0.1:5432 and not installed here" >&2
      exit 1
    fi
  fi
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if is_local "$redis_url"; then
  if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
    if command -v redis-server >/dev/null; then
      echo "starting local Redis"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
      for _ in $(seq 30); do redis-cli -u "$redis_url" ping >/dev/null 2>&1 && break; sleep 0.5; done
    else
      echo "Redis is not running on 127.0.0.1:6379 and not installed here" >&2
      exit 1
    fi
  fi
fi

# The delivery note and manifest are checked in headless Chromium with CJK fonts
# (tests/logistics/test_delivery_note_browser.py): install Debian's packages when missing.
# (fc-list's output is read whole: grep -q would end the pipe early, which pipefail reports.)
if ! command -v chromium >/dev/null || [[ $(fc-list 2>/dev/null) != *"Noto Sans CJK"* ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing chromium and fonts-noto-cjk"
    apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }
  else
    echo "chromium and fonts-noto-cjk are needed by the tests: apt-get install chromium fonts-noto-cjk" >&2
    exit 1
  fi
fi
