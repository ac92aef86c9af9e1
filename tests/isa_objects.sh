#!/usr/bin/env bash
# Per-ISA translation units (the generated simd/*_<isa>.cpp files) are compiled with flags the baseline CPU may lack.
# If one of them defines a function with vague linkage (an inline function or template instance) under
# a name another object of the library also defines, the linker keeps one copy for all callers: an
# AVX-512 body may then run on an AVX2 or SSE2 CPU. This check fails on any such name shared across
# ISAs (objects of one ISA may share one), except clang's
# __clang_call_terminate (two calls, __cxa_begin_catch then std::terminate, whatever the flags).
# It also fails on an OpenMP region in a per-ISA object (GCC's outlined ._omp_fn.N, clang's
# .omp_outlined.): the SIMD kernels' drivers are compiled once, in baseline code, and only their
# micro-kernels per ISA (docs/contributing.md).
# usage: isa_objects.sh OBJECT...   (the library's objects, as arguments or one ;-separated list, as
# ctest passes $<TARGET_OBJECTS>; per-ISA ones are those under a simd/ folder)
set -euo pipefail
IFS=';' read -r -a objects <<<"$(IFS=';'; echo "$*")"
set -- "${objects[@]}"
nm_bin=${NM:-nm}
if ! command -v "$nm_bin" >/dev/null; then echo "nm not found (Debian package binutils)"; exit 1; fi
per_isa=() all=()
for o in "$@"; do
  all+=("$o")
  [[ $o == */simd/* ]] && per_isa+=("$o")
done
if [[ ${#per_isa[@]} -eq 0 ]]; then echo "FAIL: no per-ISA object among the $# given"; exit 1; fi
# Every code symbol of every object (name, object, its ISA: the suffix of a per-ISA file's name, or
# "baseline"); a name is a problem when a per-ISA object defines it with vague linkage (W) and an
# object of another ISA defines it too. Objects of one ISA may share a name (the same code, compiled
# with the same flags: kernels/simd/common.hpp's helpers, templated on the architecture).
omp=$(for o in "${per_isa[@]}"; do
    "$nm_bin" --defined-only "$o" | awk -v f="${o##*/}" '$3 ~ /\._omp_fn\.|\.omp_outlined\./ {print f ": " $3}'
  done)
if [[ -n $omp ]]; then
  echo "FAIL: a per-ISA object holds an OpenMP region (move the parallel loop to the kernel's driver in"
  echo "kernels/<name>.cpp, compiled once, and hand it the per-ISA functions):"
  c++filt <<<"$omp"
  exit 1
fi
shared=$(for o in "${all[@]}"; do
    isa=baseline
    [[ $o == */simd/* ]] && isa=$(sed -E 's/.*_([a-z0-9]+)\.cpp\.o(bj)?$/\1/' <<<"${o##*/}")
    "$nm_bin" --defined-only "$o" | awk -v f="${o##*/}" -v isa="$isa" '$2 == "W" || $2 == "T" {print $3, f, isa, $2}'
  done | awk '{files[$1] = files[$1] " " $2
              if (!(($1, $3) in seen)) { seen[$1, $3] = 1; isas[$1]++ }
              if ($3 != "baseline" && $4 == "W") weak[$1] = 1}
              END {for (s in weak) if (isas[s] > 1 && s != "__clang_call_terminate") print s ":" files[s]}')
if [[ -n $shared ]]; then
  echo "FAIL: code compiled for one ISA shares its name with code of another object (make it depend on the"
  echo "xsimd architecture, e.g. a member of the per-ISA template):"
  c++filt <<<"$shared"
  exit 1
fi
echo "PASS: ${#per_isa[@]} per-ISA objects hold no OpenMP region and define no code under a name an object of"
echo "another ISA also defines"
