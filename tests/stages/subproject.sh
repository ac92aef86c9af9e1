#!/usr/bin/env bash
# Stage: mfgrad added to another project with add_subdirectory. The parent's (empty) build type must
# stay as it was, no tests, benchmark or tool may be built, and mfgrad::mfgrad must link and run.
#   subproject.sh SOURCE_DIR WORK_DIR
source "$(dirname "$0")/common.sh"
source_dir=$1 work=$2
need cmake cmake
need ninja ninja-build
need c++ g++

fresh "$work"  # nothing from an earlier run: the configure and the build are checked from scratch
mkdir "$work/parent"
cat >"$work/parent/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(parent LANGUAGES CXX)
add_subdirectory("$source_dir" mfgrad)
add_executable(consumer consumer.cpp)
target_link_libraries(consumer PRIVATE mfgrad::mfgrad)
CMAKE
# One entry, k = 1, u = v = 1, λ = 1: F = ½(4 − u·v)² + λ/2 (u² + v²) = 4.5 + 1 = 5.5 and
# ∂F/∂u = −(4 − u·v)·v + λu = −2, likewise ∂F/∂v — every term exact in binary floating point.
cat >"$work/parent/consumer.cpp" <<'CPP'
#include <cstdio>
#include <mfgrad/plan.hpp>
int main() {
  mfgrad::Entries e;
  e.rows = 1;
  e.cols = 1;
  e.push(0, 0, 4.0);
  const mfgrad::Observed obs = mfgrad::Observed::build(e);
  mfgrad::Plan plan(obs, 1, mfgrad::Precision::f64);
  const double u = 1, v = 1;
  double gu = 0, gv = 0;
  const double f = plan.evaluate<double>({&u, 1, 1}, {&v, 1, 1}, 1.0, {&gu, 1, 1}, {&gv, 1, 1});
  std::printf("F = %g, dF/du = %g, dF/dv = %g\n", f, gu, gv);
  return f == 5.5 && gu == -2 && gv == -2 ? 0 : 1;
}
CPP

cmake -S "$work/parent" -B "$work/build" -G Ninja >"$work/configure.log" || { cat "$work/configure.log"; fail "configure"; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$work/build/CMakeCache.txt")
[ -z "$build_type" ] || fail "the parent's CMAKE_BUILD_TYPE became '$build_type'"
targets=$(ninja -C "$work/build" -t targets all)
for t in test_kernels test_c_api mfgrad_gbench mfgrad_harness mfgrad_cli; do
  if grep -q "^$t:\|/$t:\|CMakeFiles/$t\.dir" <<<"$targets"; then fail "as a subproject mfgrad still defines $t"; fi
done
if grep -q "mfgrad_python" <<<"$targets"; then fail "as a subproject mfgrad still builds its Python module"; fi
cmake --install "$work/build" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install"; }
if [ -d "$work/prefix" ] && [ -n "$(find "$work/prefix" -type f | head -n 1)" ]; then
  fail "as a subproject mfgrad installed files nobody asked for: $(find "$work/prefix" -type f | head -n 3)"
fi
echo "build type left empty; no tests, benchmark, tool, Python module or installed files"
cmake --build "$work/build" --target consumer >"$work/build.log" || { cat "$work/build.log"; fail "build"; }
"$work/build/consumer"
