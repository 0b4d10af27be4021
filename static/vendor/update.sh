#!/bin/sh
# Re-vendor the front-end libraries pinned in package.json into static/vendor/.
#
#   make vendor          (or: sh static/vendor/update.sh)
#
# Needs node and npm; nothing else in the project does. npm runs in a temporary
# directory outside the repository, so no node_modules/ is ever created here.
# With package-lock.json in step with package.json it runs `npm ci` (exactly the
# locked versions); after package.json was edited it runs `npm install` and
# writes the new package-lock.json back. Then it replaces the six library
# folders below, regenerates README.md and checks that every url(...) and
# sourceMappingURL in the copied files points at a file that exists (whitenoise's
# CompressedManifestStaticFilesStorage refuses to collectstatic otherwise).
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DEST=static/vendor
NPM_FLAGS="--ignore-scripts --no-audit --no-fund --omit-lockfile-registry-resolved"

BUILD=$(mktemp -d "${TMPDIR:-/tmp}/zone-portal-vendor.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
trap 'exit 1' HUP INT TERM

cp package.json "$BUILD/"
in_sync=no
if [ -f package-lock.json ]; then
    cp package-lock.json "$BUILD/"
    in_sync=$(node -e '
        const pkg = require(process.argv[1]), lock = require(process.argv[2]);
        const a = JSON.stringify(pkg.dependencies || {});
        const b = JSON.stringify((lock.packages && lock.packages[""] || {}).dependencies || {});
        console.log(a === b ? "yes" : "no");
    ' "$ROOT/package.json" "$ROOT/package-lock.json")
fi
if [ "$in_sync" = yes ]; then
    (cd "$BUILD" && npm ci $NPM_FLAGS)
else
    echo "package-lock.json missing or out of step with package.json: running npm install"
    (cd "$BUILD" && npm install $NPM_FLAGS)
    cp "$BUILD/package-lock.json" package-lock.json
fi
NM="$BUILD/node_modules"

version() { node -p 'require(process.argv[1]).version' "$NM/$1/package.json"; }
license() { node -p 'require(process.argv[1]).license' "$NM/$1/package.json"; }

# take PACKAGE DIR FILE...: copy each FILE (relative to the package) into DEST/DIR,
# keeping its path below the package's dist folder (see strip below).
take() {
    pkg=$1 dir=$2 strip=$3
    shift 3
    for f in "$@"; do
        rel=${f#"$strip"}
        mkdir -p "$DEST/$dir/$(dirname "$rel")"
        cp "$NM/$pkg/$f" "$DEST/$dir/$rel"
    done
}

rm -rf "$DEST/axe-core" "$DEST/bootstrap" "$DEST/bootstrap-icons" "$DEST/echarts" "$DEST/htmx" "$DEST/tom-select"

# axe-core is for the browser tests (tests/browser/helpers.py, axe_start, injects it, same origin, so the
# CSP allows it); no page loads it. Its bundled third-party licences come with it.
take axe-core axe-core "" LICENSE LICENSE-3RD-PARTY.txt axe.min.js

take bootstrap bootstrap "" LICENSE
take bootstrap bootstrap dist/css/ \
    dist/css/bootstrap.min.css dist/css/bootstrap.min.css.map
take bootstrap bootstrap dist/js/ \
    dist/js/bootstrap.bundle.min.js dist/js/bootstrap.bundle.min.js.map
# bootstrap.bundle.min.js has Popper compiled in.
cp "$NM/@popperjs/core/LICENSE.md" "$DEST/bootstrap/LICENSE-popper"

take bootstrap-icons bootstrap-icons "" LICENSE
take bootstrap-icons bootstrap-icons font/ \
    font/bootstrap-icons.min.css \
    font/fonts/bootstrap-icons.woff2 font/fonts/bootstrap-icons.woff

take echarts echarts "" LICENSE NOTICE
take echarts echarts licenses/ licenses/LICENSE-d3
take echarts echarts dist/ dist/echarts.min.js dist/echarts.js dist/echarts.js.map
# echarts.min.js has ZRender compiled in.
cp "$NM/zrender/LICENSE" "$DEST/echarts/LICENSE-zrender"

take htmx.org htmx "" LICENSE
take htmx.org htmx dist/ dist/htmx.min.js

take tom-select tom-select "" LICENSE
# The complete build (every plugin; remove_button and clear_button are used) and the Bootstrap 5
# theme; both name their source maps, so the maps come too.
take tom-select tom-select dist/js/ \
    dist/js/tom-select.complete.min.js dist/js/tom-select.complete.min.js.map
take tom-select tom-select dist/css/ \
    dist/css/tom-select.bootstrap5.min.css dist/css/tom-select.bootstrap5.min.css.map

# Every url(...) in the CSS and every sourceMappingURL must resolve.
for f in "$DEST"/*/*.css "$DEST"/*/*.js; do
    {
        case $f in *.css) grep -o 'url([^)]*)' "$f" | sed -e 's/^url(//' -e 's/)$//' -e "s/^[\"']//" -e "s/[\"']\$//" ;; esac
        grep -o 'sourceMappingURL=[^ *]*' "$f" | sed 's/^sourceMappingURL=//'
    } | sort -u | while IFS= read -r r; do
        case $r in data:*|http:*|https:*|//*|\#*) continue ;; esac
        p=${r%%\?*}
        p=${p%%\#*}
        [ -f "$(dirname "$f")/$p" ] || echo "$f references $r"
    done
done > "$BUILD/missing"
if [ -s "$BUILD/missing" ]; then
    sed 's/^/MISSING: /' "$BUILD/missing" >&2
    exit 1
fi

BS=$(version bootstrap) BI=$(version bootstrap-icons) EC=$(version echarts) HX=$(version htmx.org)
TS=$(version tom-select) AX=$(version axe-core)
cat > "$DEST/README.md" <<EOF
# Vendored front-end libraries

Served by Django/whitenoise from \`static/vendor/\`, so the site loads nothing
from a CDN and \`make run\` needs no Node. Everything in the six library folders
is copied unchanged from the npm packages pinned in \`package.json\` (exact
versions, locked in \`package-lock.json\`) by \`update.sh\`; do not edit it by hand.
This file is generated by \`update.sh\` too.

| library | version | licence | files (under \`static/vendor/\`) |
| --- | --- | --- | --- |
| [axe-core](https://github.com/dequelabs/axe-core) | $AX | $(license axe-core) | \`axe-core/axe.min.js\`, \`axe-core/LICENSE\`, \`axe-core/LICENSE-3RD-PARTY.txt\` (for the browser tests' accessibility check; no page loads it) |
| [Bootstrap](https://getbootstrap.com/) | $BS | $(license bootstrap) | \`bootstrap/bootstrap.min.css\` (+ \`.map\`), \`bootstrap/bootstrap.bundle.min.js\` (+ \`.map\`; includes Popper $(version @popperjs/core), MIT), \`bootstrap/LICENSE\`, \`bootstrap/LICENSE-popper\` |
| [Bootstrap Icons](https://icons.getbootstrap.com/) | $BI | $(license bootstrap-icons) | \`bootstrap-icons/bootstrap-icons.min.css\`, \`bootstrap-icons/fonts/bootstrap-icons.woff2\`, \`bootstrap-icons/fonts/bootstrap-icons.woff\`, \`bootstrap-icons/LICENSE\` |
| [Apache ECharts](https://echarts.apache.org/) | $EC | $(license echarts) | \`echarts/echarts.min.js\` (includes ZRender $(version zrender), $(license zrender)), \`echarts/echarts.js\` with its source map \`echarts/echarts.js.map\` (the unminified build, served while \`DEBUG\` is on), \`echarts/LICENSE\`, \`echarts/NOTICE\`, \`echarts/LICENSE-d3\`, \`echarts/LICENSE-zrender\` |
| [htmx](https://htmx.org/) | $HX | $(license htmx.org) | \`htmx/htmx.min.js\`, \`htmx/LICENSE\` |
| [Tom Select](https://tom-select.js.org/) | $TS | $(license tom-select) | \`tom-select/tom-select.complete.min.js\` (+ \`.map\`; every plugin, and @orchidjs/sifter $(version @orchidjs/sifter) and @orchidjs/unicode-variants $(version @orchidjs/unicode-variants), $(license @orchidjs/sifter)), \`tom-select/tom-select.bootstrap5.min.css\` (+ \`.map\`), \`tom-select/LICENSE\` |

In templates (after \`{% load static %}\`):

\`\`\`django
<link rel="stylesheet" href="{% static 'vendor/bootstrap/bootstrap.min.css' %}">
<link rel="stylesheet" href="{% static 'vendor/bootstrap-icons/bootstrap-icons.min.css' %}">
<script src="{% static 'vendor/bootstrap/bootstrap.bundle.min.js' %}" defer></script>
<script src="{% static 'vendor/echarts/echarts.min.js' %}"></script>
<script src="{% static 'vendor/htmx/htmx.min.js' %}" defer></script>
<link rel="stylesheet" href="{% static 'vendor/tom-select/tom-select.bootstrap5.min.css' %}">
<script src="{% static 'vendor/tom-select/tom-select.complete.min.js' %}"></script>
\`\`\`

Tom Select is not called from templates: \`static/js/selects.js\` turns every
\`<select data-select>\` into a searchable one (\`zone_portal/forms.py\` marks them).

The \`.map\` files are kept because the minified Bootstrap and Tom Select files reference them
and whitenoise's \`CompressedManifestStaticFilesStorage\` fails \`collectstatic\`
on a missing referenced file. \`bootstrap-icons.min.css\` loads its fonts from
\`fonts/\` beside it, so keep that layout.

## Updating

Needs node and npm (only for this; running the site does not).

1. Edit the exact version in \`package.json\` (no \`^\` or \`~\`).
2. Run \`make vendor\`. It installs into a temporary directory outside the
   repository (\`npm ci\`, or \`npm install\` when \`package.json\` changed, which
   also rewrites \`package-lock.json\`), replaces the library folders here,
   regenerates this README and checks that every \`url(...)\` and
   \`sourceMappingURL\` in the copied files resolves.
3. Review \`git diff --stat\`, try the pages, commit \`package.json\`,
   \`package-lock.json\` and \`static/vendor/\` together.

Stay on the major versions above unless templates are ported too: ECharts 6
and htmx 4 exist but change behaviour.
EOF

echo "static/vendor: axe-core $AX, bootstrap $BS, bootstrap-icons $BI, echarts $EC, htmx.org $HX, tom-select $TS ($(du -sh "$DEST" | cut -f1))"
