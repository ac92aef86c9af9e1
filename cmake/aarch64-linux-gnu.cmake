# Cross build for aarch64 Linux on a Debian host, with the arm64 libraries installed through multiarch:
#
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install -y g++-aarch64-linux-gnu qemu-user \
#     libxsimd-dev:arm64 libtbb-dev:arm64 libgtest-dev:arm64 libbenchmark-dev:arm64
#   cmake -S . -B build/aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# Multiarch puts the arm64 libraries and their CMake packages under /usr/lib/aarch64-linux-gnu, which
# CMake searches by itself once it knows the target's library architecture, and shares /usr/include with
# the host. So no sysroot is set: headers and packages come from the host's /usr, libraries from the
# aarch64 directory only.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# What ctest and gtest_discover_tests start goes through the emulator (there is no binfmt_misc here to do
# it implicitly). `-L /` takes the dynamic loader and libc of the arm64 multiarch packages; qemu's own
# default, or the cross toolchain's /usr/aarch64-linux-gnu, pairs a loader and a libc of different
# versions and hangs in pthread_create.
find_program(MFGRAD_QEMU_AARCH64 qemu-aarch64)
if(MFGRAD_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MFGRAD_QEMU_AARCH64};-L;/")
endif()
