#!/bin/sh
# WeasyPrint's system libraries (Pango, and HarfBuzz's subsetter), for the printable PDF forms (`make demo`).
# Installs them from Debian when missing and this runs as root; otherwise says what is missing and carries on:
# the product runs without them, and its PDF links answer 503 with the reason.
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
command -v dpkg-query >/dev/null 2>&1 || exit 0  # not Debian: install Pango the platform's way
need=""
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do
  installed $lib || need="$need $lib"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "PDF forms need:$need (apt-get install them as root); the rest of the product runs without." >&2
  exit 0
fi
echo "== installing Debian packages for the PDF forms:$need"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null \
  || echo "could not install$need: the PDF forms will answer 503 until they are installed" >&2
