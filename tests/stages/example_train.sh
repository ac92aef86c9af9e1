#!/usr/bin/env bash
# Stage: the trainer example configured with find_package(mfgrad CONFIG REQUIRED) against the
# installed prefix only, built on the shared and on the static library, and run: it must recover a
# planted low-rank matrix, write factors the installed mfgrad tool reads back, and — when the file is
# at hand — reach a test RMSE of at most 0.90 on MovieLens ml-latest-small. Trained in mixed precision
# (--storage bf16: float32 masters, mfgrad reading a bfloat16 copy), it must do as well on the planted
# matrix and come within 0.005 of the float32 test RMSE on ml-latest-small.
#   example_train.sh PREFIX EXAMPLE_DIR WORK_DIR DATA_DIR
source "$(dirname "$0")/common.sh"
prefix=$1 src=$2 work=$3 data=$4
need cmake cmake
need ninja ninja-build
need c++ g++
need awk mawk
need readelf binutils

fresh "$work"
config=$(find "$prefix" -name mfgradConfig.cmake | head -n 1)
[ -n "$config" ] || fail "no mfgradConfig.cmake under $prefix (run the install stage first)"

# build VARIANT [cmake options]: the example in its own folder, finding mfgrad in the prefix only.
build() {
  local dir=$work/$1
  shift
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF "$@" >"$dir.configure.log" || { cat "$dir.configure.log"; fail "configure"; }
  found=$(sed -n 's/^mfgrad_DIR:PATH=//p' "$dir/CMakeCache.txt")
  [ "$found" -ef "$(dirname "$config")" ] || fail "the example found mfgrad in '$found', not in $prefix"
  cmake --build "$dir" >"$dir.build.log" || { cat "$dir.build.log"; fail "build"; }
}
build shared
build static -DTRAIN_LINK_STATIC=ON
readelf -d "$work/shared/train" | grep -q 'NEEDED.*libmfgrad\.so' || fail "the shared build does not use libmfgrad.so"
if readelf -d "$work/static/train" | grep -q libmfgrad; then fail "the static build still needs libmfgrad.so"; fi

# A planted problem: 400 x 300, a quarter observed, rank 3 (u_i·v_j of variance 1) plus Gaussian noise
# of σ = 0.2. The best possible predictor has RMSE σ; the mean alone about 1.02. The fit must come
# within half of σ: test RMSE ≤ 1.5σ = 0.3.
awk -v seed=7 -v m=400 -v n=300 -v r=3 -v density=0.25 -v sigma=0.2 '
  function gauss() { return sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand()) }
  BEGIN {
    srand(seed); s = 1 / sqrt(sqrt(r))
    for (i = 0; i < m; i++) for (l = 0; l < r; l++) a[i, l] = s * gauss()
    for (j = 0; j < n; j++) for (l = 0; l < r; l++) b[j, l] = s * gauss()
    for (i = 0; i < m; i++) for (j = 0; j < n; j++) if (rand() < density) {
      v = 3; for (l = 0; l < r; l++) v += a[i, l] * b[j, l]
      printf "%d %d %.6f\n", i, j, v + sigma * gauss()
    }
  }' >"$work/planted.txt"

# rmse LOG: the test RMSE of the trainer's "result test_rmse=..." line.
rmse() {
  local r
  r=$(sed -n 's/^result test_rmse=\([0-9.]*\) .*/\1/p' "$1")
  [ -n "$r" ] || fail "no result line in $1"
  echo "$r"
}
# check LOG LIMIT: that test RMSE, within the limit.
check() {
  local r
  r=$(rmse "$1")
  awk -v r="$r" -v limit="$2" 'BEGIN { exit !(r <= limit) }' || fail "test RMSE $r is above $2 ($1)"
  echo "test RMSE $r <= $2"
}
for variant in shared static; do
  "$work/$variant/train" --ratings "$work/planted.txt" --k 3 --lambda 1 --seed 3 --out "$work/$variant-model" \
    >"$work/$variant-planted.log" || { cat "$work/$variant-planted.log"; fail "train ($variant) on planted data"; }
  tail -n 4 "$work/$variant-planted.log"
  check "$work/$variant-planted.log" 0.3
done
"$work/shared/train" --ratings "$work/planted.txt" --k 3 --lambda 1 --seed 3 --storage bf16 >"$work/bf16-planted.log" ||
  { cat "$work/bf16-planted.log"; fail "train --storage bf16 on planted data"; }
grep -q 'reads a bfloat16 copy' "$work/bf16-planted.log" || fail "--storage bf16 did not evaluate a bfloat16 copy"
check "$work/bf16-planted.log" 0.3
# The factors are m x (k + 2) and n x (k + 2) .npy files that mfgrad itself reads back.
"$prefix/bin/mfgrad" eval --ratings "$work/planted.txt" --u "$work/shared-model/U.npy" --v "$work/shared-model/V.npy" \
  --lambda 1 --out "$work/eval" >"$work/eval.json" || fail "mfgrad eval cannot use the trainer's factors"
grep -Eq '"k": ?5[,}]' "$work/eval.json" || fail "the factors do not have k + 2 = 5 columns: $(cat "$work/eval.json")"
grep -q '"test_rmse"' "$work/shared-model/model.json" || fail "model.json lacks the test RMSE"
[ "$(wc -l <"$work/shared-model/row_ids.txt")" -eq 400 ] || fail "row_ids.txt does not list the 400 users"

ratings=$data/ml-latest-small/ratings.csv
if [ -f "$ratings" ]; then
  "$work/shared/train" --ratings "$ratings" --k 64 --lambda 12 --test-fraction 0.2 --seed 1 --max-epochs 300 \
    >"$work/movielens.log" || { cat "$work/movielens.log"; fail "train on $ratings"; }
  sed -n '1,2p;/^best:/,$p' "$work/movielens.log"
  check "$work/movielens.log" 0.90
  "$work/shared/train" --ratings "$ratings" --k 64 --lambda 12 --test-fraction 0.2 --seed 1 --max-epochs 300 \
    --storage bf16 >"$work/movielens-bf16.log" || { cat "$work/movielens-bf16.log"; fail "train --storage bf16 on $ratings"; }
  sed -n '2p;/^best:/,$p' "$work/movielens-bf16.log"
  check "$work/movielens-bf16.log" "$(awk -v r="$(rmse "$work/movielens.log")" 'BEGIN { print r + 0.005 }')"
else
  echo "MovieLens ml-latest-small not found at $ratings: only the planted problem was trained on"
fi
