#!/usr/bin/env bash
# Copies Leerpoort's pupil pictures and picture-password pictures from the OpenMoji set
# (CC BY-SA 4.0, installed from the npm registry at the version pinned in
# idp/assets/package-lock.json) into idp/static/plaatjes/, where the server embeds them.
# Run it after changing the list below or the pinned version; commit what it writes.
# The list must match idp/src/pictures.rs (a test there checks every entry has its file).
set -euo pipefail
cd "$(dirname "$0")/../idp/assets"

npm ci --no-audit --no-fund --loglevel=error
src=node_modules/openmoji/color/svg
out=../static/plaatjes
mkdir -p "$out"
rm -f "$out"/*.svg

# name (Dutch, as in the URL) : OpenMoji code point
pictures=(
  vos:1F98A kat:1F431 hond:1F436 uil:1F989 egel:1F994 schildpad:1F422
  vis:1F41F vlinder:1F98B olifant:1F418 leeuw:1F981 konijn:1F430 kikker:1F438
  pinguin:1F427 eenhoorn:1F984 koe:1F42E varken:1F437
  appel:1F34E banaan:1F34C peer:1F350 aardbei:1F353
  zon:2600 maan:1F319 ster:2B50 bloem:1F33B boom:1F333
  fiets:1F6B2 bal:26BD huis:1F3E0 auto:1F697 boot:26F5 raket:1F680 paraplu:2602
)
for p in "${pictures[@]}"; do
  name=${p%%:*}
  code=${p#*:}
  # Drop the editor's metadata; keep the drawing.
  sed -e 's/ id="[^"]*"//g' "$src/$code.svg" > "$out/$name.svg"
done
cp node_modules/openmoji/LICENSE.txt "$out/LICENSE.txt"
echo "Wrote ${#pictures[@]} pictures to idp/static/plaatjes/"
