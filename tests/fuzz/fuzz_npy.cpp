// Fuzz target of the .npy reader: an array whose values are the file's last bytes, verbatim, or a
// refusal at a byte offset inside the file.
#include <cstring>

#include "fuzz.hpp"
#include "mfgrad/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mfgrad;
  const std::string name = "fuzz.npy";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  NpyArray a;
  const auto located = [&](const std::string& message) {
    fuzz::check_located(message, name, ": byte ", 0, static_cast<std::int64_t>(size));
  };
  if (!fuzz::attempt([&] { a = parse_npy(bytes, name); }, located)) return 0;

  const std::size_t count = a.rows * a.cols;
  const bool f32 = a.dtype == Precision::f32;
  const std::size_t length = count * (f32 ? sizeof(float) : sizeof(double));
  fuzz::require(f32 ? a.f32.size() == count && a.f64.empty() : a.f64.size() == count && a.f32.empty(),
                "array size differs from its shape");
  fuzz::require(length <= size, "array larger than the file");
  const void* values = f32 ? static_cast<const void*>(a.f32.data()) : static_cast<const void*>(a.f64.data());
  fuzz::require(length == 0 || std::memcmp(values, data + size - length, length) == 0, "values not copied verbatim");
  return 0;
}
