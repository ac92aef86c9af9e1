// Internal: small collective helpers of mfgrad::mpi (typed MPI calls, error agreement).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mfgrad/mpi.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::mpi::detail {

template <class T>
MPI_Datatype datatype() {
  if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>)
    return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return MPI_INT32_T;
  else
    static_assert(sizeof(T) == 0, "no MPI datatype for this type");
}

// MPI counts and displacements are int: a larger message is refused by name rather than truncated.
inline int count_of(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(std::string(what) + ": " + std::to_string(n) + " elements exceed one MPI message (at most " +
                std::to_string(std::numeric_limits<int>::max()) + "); use more ranks");
  return static_cast<int>(n);
}

inline void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

// Every rank's value of x, in rank order.
template <class T>
std::vector<T> allgather(MPI_Comm comm, T x) {
  int ranks = 0;
  MPI_Comm_size(comm, &ranks);
  std::vector<T> all(static_cast<std::size_t>(ranks));
  check_mpi(MPI_Allgather(&x, 1, datatype<T>(), all.data(), 1, datatype<T>(), comm), "MPI_Allgather");
  return all;
}

// Every rank's vector, concatenated in rank order; `sizes` receives each rank's length.
template <class T>
std::vector<T> allgatherv(MPI_Comm comm, const std::vector<T>& mine, std::vector<int>* sizes = nullptr) {
  const std::vector<int> counts = allgather<std::int32_t>(comm, count_of(mine.size(), "MPI_Allgatherv"));
  std::vector<int> displs(counts.size(), 0);
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = count_of(total, "MPI_Allgatherv");
    total += static_cast<std::size_t>(counts[r]);
  }
  std::vector<T> all(total);
  check_mpi(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), datatype<T>(), all.data(), counts.data(),
                           displs.data(), datatype<T>(), comm),
            "MPI_Allgatherv");
  if (sizes != nullptr) *sizes = counts;
  return all;
}

// Agreement on a failure: `message` empty where this rank succeeded, `kind` 1 for an Error, 2 for
// OutOfMemory. Throws the lowest failing rank's message on every rank when any failed.
void raise_if_any(MPI_Comm comm, const std::string& message, int kind);

}  // namespace mfgrad::mpi::detail

namespace mfgrad::mpi {

// Makes Shares (a friend of Share): from this rank's block, or from any piece of Ω sent to its owners.
struct ShareBuilder {
  static Share make(MPI_Comm comm, Partition partition, index_t m, index_t n, std::vector<index_t> bounds,
                    Entries local, DuplicatePolicy duplicates, const std::string& description);
  static Share from_entries(MPI_Comm comm, const Entries& piece, Partition partition, DuplicatePolicy duplicates,
                            const std::string& description);
};

}  // namespace mfgrad::mpi
