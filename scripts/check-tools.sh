#!/usr/bin/env bash
# Checks the tools `make` needs (Python 3.11+, Java 17+, Maven, Node.js with npm, Chromium for the
# browser tests); as root with apt-get, installs the missing ones from Debian's packages, otherwise
# says exactly what to install.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Chinese glyphs in browser screenshots (the UI is Chinese first)
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || missing+=(fonts-wqy-microhei)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "安装缺少的软件包 / installing missing packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "错误 / Error: missing ${missing[*]}: install them (sudo apt-get install ${missing[*]}) and run make again." >&2
    exit 1
  fi
fi

java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${java_major%%.*}" -lt 17 ] 2>/dev/null; then
  echo "错误 / Error: Java ${java_major} is too old: Neo4j 5.26 needs Java 17 or newer (set JAVA_HOME)." >&2
  exit 1
fi

if ! "${PYTHON:-python3}" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "错误 / Error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
