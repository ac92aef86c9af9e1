#!/usr/bin/env bash
# Stage: the C example built against the installed prefix with pkg-config and the plain C compiler,
# linked to the shared library and (pkg-config --static) to the static one, and run.
#   example_c.sh PREFIX EXAMPLE_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
prefix=$1 src=$2 work=$3
need cc gcc
need pkg-config pkgconf
need readelf binutils

fresh "$work"
pc=$(dirname "$(find "$prefix" -name mfgrad.pc | head -n 1)")
[ -d "$pc" ] || fail "no mfgrad.pc under $prefix (run the install stage first)"
export PKG_CONFIG_PATH=$pc  # mfgrad from this prefix; oneTBB (for --static) from the system
[ "$(pkg-config --variable=prefix mfgrad)" -ef "$prefix" ] || fail "pkg-config finds mfgrad elsewhere than $prefix"
libdir=$(pkg-config --variable=libdir mfgrad)
# A shared-library user needs nothing of oneTBB: with only mfgrad's .pc visible (no tbb.pc, as without
# libtbb-dev), the shared link's flags still resolve.
PKG_CONFIG_LIBDIR=$pc PKG_CONFIG_PATH= pkg-config --cflags --libs mfgrad >/dev/null ||
  fail "pkg-config --cflags --libs mfgrad needs other packages' .pc files (oneTBB's?)"

cc -std=c99 -O2 -Wall -Wextra -pedantic -Werror "$src/descent.c" $(pkg-config --cflags --libs mfgrad) -lm \
  -Wl,-rpath,"$libdir" -o "$work/descent"
readelf -d "$work/descent" | grep -q 'NEEDED.*libmfgrad\.so' || fail "descent is not linked to libmfgrad.so"
"$work/descent"

# Static: the archive in place of -lmfgrad, and what it needs from pkg-config's Libs.private.
cc -std=c99 -O2 "$src/descent.c" $(pkg-config --cflags mfgrad) \
  $(pkg-config --static --libs mfgrad | sed 's/-lmfgrad\b/-l:libmfgrad.a/') -lm -o "$work/descent_static"
if readelf -d "$work/descent_static" | grep -q 'libmfgrad'; then fail "descent_static still needs libmfgrad.so"; fi
"$work/descent_static" >"$work/static.log" || { cat "$work/static.log"; fail "descent_static"; }
echo "static build: $(tail -n 1 "$work/static.log")"
