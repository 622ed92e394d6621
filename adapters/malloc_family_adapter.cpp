// glibc, jemalloc, tcmalloc and mimalloc through the standard malloc API.
//
// The four differ only in which library provides `malloc` in the process: the
// build links allocbench_cell_<name> against the Debian library, so it replaces
// malloc for the whole child. The adapter asks the dynamic linker which object
// really defines `malloc` (verify()) so a mis-linked cell fails loudly instead
// of silently measuring glibc.
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "adapters/adapter.h"
#include "allocators/common/platform.h"

namespace allocbench {
namespace {

constexpr size_t kMallocAlignment = alignof(std::max_align_t);

// The version the allocator reports about itself, looked up at run time so
// that the same code serves every cell.
std::string system_allocator_version(const std::string& name) {
  char buf[64];
  if (name == "glibc") return gnu_get_libc_version();
  if (name == "jemalloc") {
    using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);
    auto fn = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
    const char* v = nullptr;
    size_t len = sizeof v;
    if (fn != nullptr && fn("version", &v, &len, nullptr, 0) == 0 && v != nullptr) return v;
  } else if (name == "tcmalloc") {
    using TcVersionFn = const char* (*)(int*, int*, const char**);
    auto fn = reinterpret_cast<TcVersionFn>(dlsym(RTLD_DEFAULT, "tc_version"));
    int major = 0, minor = 0;
    const char* patch = nullptr;
    if (fn != nullptr) {
      fn(&major, &minor, &patch);
      std::snprintf(buf, sizeof buf, "%d.%d%s", major, minor, patch ? patch : "");
      return buf;
    }
  } else if (name == "mimalloc") {
    using MiVersionFn = int (*)();
    auto fn = reinterpret_cast<MiVersionFn>(dlsym(RTLD_DEFAULT, "mi_version"));
    if (fn != nullptr) {
      int v = fn();
      std::snprintf(buf, sizeof buf, "%d.%d.%d", v / 100, (v / 10) % 10, v % 10);
      return buf;
    }
  } else if (name == "inhouse_baseline") {
#ifdef ALLOCBENCH_INHOUSE_BASELINE
    return ALLOCBENCH_INHOUSE_BASELINE;
#endif
  } else if (name == "inhouse") {
    // liballoc has no version call; its presence is checked by verify().
    if (dlsym(RTLD_DEFAULT, "alloc_malloc") != nullptr) return "liballoc 1.0";
  }
  return "unknown";
}

// Thread-safe (the malloc implementations are).
class MallocFamilyAdapter : public Adapter {
 public:
  MallocFamilyAdapter(const char* name, const char* library) : name_(name), library_(library) {}
  // A library adapter (--allocator-lib, tbbmalloc, scudo): malloc must come
  // from exactly `library` (a path), and `version` is what the runner found.
  MallocFamilyAdapter(const char* name, const char* library, std::string version)
      : name_(name), library_(library), version_(std::move(version)), exact_path_(true) {}

  // Whether plain malloc of `size` bytes meets `alignment`. malloc guarantees
  // 16-byte alignment only for blocks of at least 16 bytes (tcmalloc and
  // mimalloc return 8-aligned blocks below that).
  static bool malloc_aligns(size_t size, size_t alignment) {
    return alignment <= 8 || (alignment <= kMallocAlignment && size >= alignment);
  }

  // Fast path: one call into the allocator under test.
  void* allocate(size_t size, size_t alignment) override {
    if (malloc_aligns(size, alignment)) return malloc(size);
    void* p = nullptr;
    return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
  }
  void* allocate_zeroed(size_t size, size_t alignment) override {
    if (malloc_aligns(size, alignment)) return calloc(1, size);
    return Adapter::allocate_zeroed(size, alignment);
  }
  void deallocate(void* p, size_t, size_t) override { free(p); }
  void* reallocate(void* p, size_t old_size, size_t new_size, size_t alignment) override {
    if (malloc_aligns(new_size, alignment)) return realloc(p, new_size);
    return Adapter::reallocate(p, old_size, new_size, alignment);
  }

  std::string verify() const override {
    void* sym = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) {
      return "cannot tell which library defines malloc";
    }
    if (served_by_sanitizer(info.dli_fname)) return "";
    if (exact_path_ ? !platform::same_file(info.dli_fname, library_)
                    : std::strstr(info.dli_fname, library_) == nullptr) {
      return std::string("adapter '") + name_ + "' expects malloc from " + library_ +
             " but this process gets it from " + info.dli_fname;
    }
    return "";
  }

  std::string version() const override {
    if (exact_path_) return version_.empty() ? "unknown" : version_;
    std::string v = system_allocator_version(name_);
#ifdef ALLOCBENCH_SANITIZER_BUILD
    if (std::strcmp(name_, "glibc") == 0) v += " (sanitizer build: malloc is the sanitizer's)";
#endif
    return v;
  }

 private:
  const char* name_;
  const char* library_;  // Substring of the path of the object that must define malloc.
  std::string version_;  // Library adapters: the version the runner found.
  bool exact_path_ = false;  // library_ is the exact file (library adapters).

  // A sanitizer build replaces the C library's malloc with the sanitizer's:
  // the glibc adapter then runs on it (the build is for checking the
  // harness, and its version string says so), any other adapter fails.
  bool served_by_sanitizer(const char* path) const {
#ifdef ALLOCBENCH_SANITIZER_BUILD
    return std::strcmp(name_, "glibc") == 0 &&
           (std::strstr(path, "libasan") != nullptr || std::strstr(path, "libtsan") != nullptr);
#else
    (void)path;
    return false;
#endif
  }
};

}  // namespace

std::unique_ptr<Adapter> create_glibc_adapter() {
  return std::make_unique<MallocFamilyAdapter>("glibc", "libc.so");
}
std::unique_ptr<Adapter> create_jemalloc_adapter() {
  return std::make_unique<MallocFamilyAdapter>("jemalloc", "libjemalloc");
}
std::unique_ptr<Adapter> create_tcmalloc_adapter() {
  return std::make_unique<MallocFamilyAdapter>("tcmalloc", "libtcmalloc");
}
std::unique_ptr<Adapter> create_mimalloc_adapter() {
  return std::make_unique<MallocFamilyAdapter>("mimalloc", "libmimalloc");
}
std::unique_ptr<Adapter> create_inhouse_adapter() {
  return std::make_unique<MallocFamilyAdapter>("inhouse", "inhouse/liballoc");
}
std::unique_ptr<Adapter> create_library_adapter(const AdapterInfo& info) {
  return std::make_unique<MallocFamilyAdapter>(info.name, info.preload.c_str(),
                                               info.preload_version);
}
std::unique_ptr<Adapter> create_inhouse_baseline_adapter() {
  return std::make_unique<MallocFamilyAdapter>("inhouse_baseline", "baseline/liballoc");
}

}  // namespace allocbench
