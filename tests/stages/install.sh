#!/usr/bin/env bash
# Stage: `cmake --install` into a fresh prefix, and what must be there — both libraries (the shared
# one with its SONAME, exporting only mfgrad's symbols), the tool and bench's callgrind child it runs,
# the CMake package, mfgrad.pc, the licence — and
# headers that compile alone from that prefix without xsimd or oneTBB.
#   install.sh BUILD_DIR PREFIX WORK_DIR
source "$(dirname "$0")/common.sh"
build=$1 prefix=$2 work=$3
need cmake cmake
need c++ g++
need cc gcc
need readelf binutils
need nm binutils

fresh "$prefix"
fresh "$work"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

libdir=$(find "$prefix" -name 'libmfgrad.so.*.*.*' -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || fail "no versioned libmfgrad.so.MAJOR.MINOR.PATCH under $prefix"
for f in "$prefix/bin/mfgrad" "$prefix/include/mfgrad/mfgrad.h" "$prefix/include/mfgrad/plan.hpp" \
         "$libdir/libmfgrad.a" "$libdir/libmfgrad.so" "$libdir/pkgconfig/mfgrad.pc" \
         "$libdir/cmake/mfgrad/mfgradConfig.cmake" "$libdir/cmake/mfgrad/mfgradConfigVersion.cmake" \
         "$prefix/share/doc/mfgrad/LICENSE"; do
  [ -e "$f" ] || fail "not installed: $f"
done
# The licence is named wherever a user meets the package: pkg-config and the CMake package.
grep -qx 'License: Apache-2.0' "$libdir/pkgconfig/mfgrad.pc" || fail "mfgrad.pc does not name the licence"
grep -q 'mfgrad_LICENSE "Apache-2.0"' "$libdir/cmake/mfgrad/mfgradConfig.cmake" || fail "mfgradConfig.cmake does not name the licence"
"$prefix/bin/mfgrad" kernels >/dev/null || fail "the installed mfgrad tool does not run"
# bench's callgrind child, in libexec/mfgrad: the installed tool must find it and get its verdict.
[ -x "$prefix/libexec/mfgrad/mfgrad_count" ] || fail "not installed: $prefix/libexec/mfgrad/mfgrad_count"
if command -v valgrind >/dev/null; then
  "$prefix/bin/mfgrad" bench --instructions --data tiny --k 4 --impl naive --json "$work/count.json" >"$work/count.log" 2>&1 ||
    { cat "$work/count.log"; fail "the installed tool's instruction count (bench --instructions) failed"; }
  grep -q '"instructions": [1-9]' "$work/count.json" || fail "no instruction count in $work/count.json"
fi

real=$(basename "$(find "$libdir" -name 'libmfgrad.so.*.*.*' | head -n 1)")
soname=$(readelf -d "$libdir/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
version=${real#libmfgrad.so.}
[ "$soname" = "libmfgrad.so.${version%.*}" ] || fail "$real has SONAME '$soname', expected libmfgrad.so.${version%.*}"
[ "$(readlink "$libdir/$soname")" = "$real" ] || fail "$libdir/$soname does not point at $real"
echo "shared library $real, SONAME $soname"

# Exported: the C functions and namespace mfgrad, nothing of xsimd, oneTBB or the standard library.
nm -D --defined-only -C "$libdir/$real" | awk '{ $1 = ""; $2 = ""; print }' | sed 's/^ *//' >"$work/exports.txt"
grep -q '^mfgrad_plan_evaluate_f32$' "$work/exports.txt" || fail "mfgrad_plan_evaluate_f32 is not exported"
grep -q 'mfgrad::Plan::Plan' "$work/exports.txt" || fail "mfgrad::Plan is not exported"
if grep -v 'mfgrad' "$work/exports.txt" | grep -q .; then
  grep -v 'mfgrad' "$work/exports.txt" | head >&2
  fail "libmfgrad.so exports symbols outside mfgrad (above)"
fi
echo "exports: $(wc -l <"$work/exports.txt") symbols, all mfgrad's"

# Every header alone, from the prefix only; none may reach xsimd or oneTBB.
# mfgrad/mpi.hpp (installed when built with MPI) also needs MPI's own headers, as its mfgrad-mpi.pc says.
for h in "$prefix"/include/mfgrad/*.hpp; do
  include="#include <mfgrad/$(basename "$h")>"
  extra=()
  if [ "$(basename "$h")" = mpi.hpp ]; then
    [ -f "$libdir/pkgconfig/mfgrad-mpi.pc" ] || fail "mfgrad/mpi.hpp is installed without mfgrad-mpi.pc"
    read -ra extra <<<"$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags mfgrad-mpi)"
  fi
  c++ -std=c++20 -fsyntax-only -Wall -Werror -I"$prefix/include" "${extra[@]}" -x c++ - <<<"$include" ||
    fail "$h does not compile alone"
  deps=$(c++ -std=c++20 -M -I"$prefix/include" "${extra[@]}" -x c++ - <<<"$include")
  if grep -Eq 'xsimd|tbb|oneapi' <<<"$deps"; then
    fail "$h includes xsimd or oneTBB headers: $(grep -Eo '[^ ]*(xsimd|tbb|oneapi)[^ ]*' <<<"$deps" | head -n 3)"
  fi
done
cc -std=c99 -pedantic -Wall -Werror -fsyntax-only -I"$prefix/include" -x c - <<<"#include <mfgrad/mfgrad.h>" ||
  fail "mfgrad.h is not C99"
echo "headers: $(ls "$prefix"/include/mfgrad | wc -l), each compiles alone, none needs xsimd or oneTBB"
