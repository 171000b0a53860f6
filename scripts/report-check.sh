#!/usr/bin/env bash
# Opens a capsize report's report.html in headless Chromium and checks that its charts are drawn:
#   scripts/report-check.sh DIR [MIN_CHARTS]
# The DOM Chromium built must hold at least MIN_CHARTS (default 1) SVG charts with measured points, and a full-page
# screenshot (DIR/report-check.png) must show the charts' colours over enough pixels. Exit 0: drawn; 1: not; 77:
# no Chromium here (skipped; `apt-get install chromium`, or scripts/setup.sh as root, installs it).
set -euo pipefail
dir=${1:?usage: report-check.sh DIR [MIN_CHARTS]}
min_charts=${2:-1}
page="$(cd "$dir" && pwd)/report.html"
[ -f "$page" ] || { echo "report-check: no $page" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "report-check: skipped: no Chromium installed" >&2; exit 77; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" --no-first-run
  --disable-extensions --disable-background-networking)
"$browser" "${flags[@]}" --dump-dom "file://$page" >"$profile/dom.html" 2>/dev/null
"$browser" "${flags[@]}" --window-size=1200,6000 --force-device-scale-factor=0.5 --screenshot="$dir/report-check.png" "file://$page" \
  >/dev/null 2>&1

python3 - "$profile/dom.html" "$dir/report-check.png" "$min_charts" <<'PY'
import re, struct, sys, zlib

dom_path, png_path, min_charts = sys.argv[1], sys.argv[2], int(sys.argv[3])
dom = open(dom_path, encoding="utf-8").read()
charts = re.findall(r'<svg class="chart"[^>]*>(.*?)</svg>', dom, re.S)
drawn = [c for c in charts if re.search(r'class="(measured|projected|broke|summary)"', c)]
print(f"report-check: {len(charts)} chart(s) in the DOM, {len(drawn)} with points")
if len(drawn) < min_charts:
    sys.exit(f"report-check: fewer than {min_charts} chart(s) with points")
if re.search(r'(src|href)="(https?:)?//', dom) or "@import" in dom:
    sys.exit("report-check: the page loads something from the network")

def pixels(path):
    """The RGB pixels of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = header[:4]
    assert depth == 8 and color in (2, 6), f"unexpected PNG format {depth}/{color}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1: line[i] = (line[i] + left) & 255
            elif kind == 2: line[i] = (line[i] + up) & 255
            elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows

width, height, channels, rows = pixels(png_path)
# The series colours of the charts (SuiteHTML.palette): pixels near them are chart ink, not text or background.
palette = [(0x1f, 0x77, 0xb4), (0xd6, 0x27, 0x28), (0x2c, 0xa0, 0x2c), (0x94, 0x67, 0xbd), (0xff, 0x7f, 0x0e)]
ink = background = 0
for row in rows:
    for x in range(0, width * channels, channels):
        r, g, b = row[x], row[x + 1], row[x + 2]
        if r > 245 and g > 245 and b > 245:
            background += 1
        elif any(abs(r - pr) + abs(g - pg) + abs(b - pb) < 60 for pr, pg, pb in palette):
            ink += 1
print(f"report-check: screenshot {width}x{height}, {ink} pixel(s) of chart colours, "
      f"{100 * background // (width * height)} % background")
if ink < 20 * min_charts:
    sys.exit("report-check: the screenshot shows too little of the charts")
PY
echo "report-check: $page draws its charts"
