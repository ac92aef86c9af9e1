#!/usr/bin/env bash
# The per-ISA symbol check (isa_objects.sh) on objects made to be caught or let pass: one inline
# function compiled into a per-ISA object and a baseline one, or into objects of two ISAs, must fail
# the check; into two objects of the same ISA it must pass. An OpenMP region in a per-ISA object must
# fail it too, and pass in a baseline object.
# usage: isa_objects_selftest.sh CXX WORK_DIR
set -euo pipefail
cxx=$1 work=$2 check="$(dirname "$0")/isa_objects.sh"
rm -rf "$work" && mkdir -p "$work/simd"
printf 'inline int tripled(int x) { return 3 * x; }\nint %s(int x) { return tripled(x); }\n' one >"$work/one.cpp"
printf 'inline int tripled(int x) { return 3 * x; }\nint %s(int x) { return tripled(x); }\n' two >"$work/two.cpp"
"$cxx" -O0 -c "$work/one.cpp" -o "$work/simd/one_avx2.cpp.o"
"$cxx" -O0 -c "$work/two.cpp" -o "$work/simd/two_avx2.cpp.o"
"$cxx" -O0 -c "$work/two.cpp" -o "$work/simd/two_avx512.cpp.o"
"$cxx" -O0 -c "$work/two.cpp" -o "$work/two.cpp.o"
expect() {  # expect pass|fail OBJECTS...
  local want=$1 got=pass
  shift
  "$check" "$@" >"$work/out.txt" 2>&1 || got=fail
  if [[ $got != "$want" ]]; then
    cat "$work/out.txt"
    echo "FAIL: the check should $want on ${*##*/}, but did not"
    exit 1
  fi
}
printf 'void scaled(float* x, int n) {\n#pragma omp parallel for\n  for (int i = 0; i < n; ++i) x[i] *= 2;\n}\n' >"$work/omp.cpp"
"$cxx" -O0 -fopenmp -c "$work/omp.cpp" -o "$work/simd/omp_avx2.cpp.o"
"$cxx" -O0 -fopenmp -c "$work/omp.cpp" -o "$work/omp.cpp.o"
expect fail "$work/simd/omp_avx2.cpp.o" "$work/simd/two_avx2.cpp.o"
expect pass "$work/omp.cpp.o" "$work/simd/two_avx2.cpp.o"
expect fail "$work/simd/one_avx2.cpp.o" "$work/two.cpp.o"
expect fail "$work/simd/one_avx2.cpp.o" "$work/simd/two_avx512.cpp.o"
expect pass "$work/simd/one_avx2.cpp.o" "$work/simd/two_avx2.cpp.o"
echo "PASS: the per-ISA check fails across ISAs and on a per-ISA OpenMP region, and passes within one ISA"
