// The one interface between the harness and an allocator under test.
//
// An Adapter wraps one allocator. The runner creates exactly one Adapter per
// child process (per benchmark cell), calls thread_init() on every worker
// thread before the clock starts and thread_exit() after it stops, and in the
// timed loop only calls allocate / deallocate / reallocate / reset.
//
// Adapters that replace malloc (glibc, jemalloc, tcmalloc, mimalloc, the
// in-house drop-in) cannot share a process: each names the child executable
// ("cell") it must run in, and the build links that executable against the
// allocator. In-process adapters (std::pmr, in-house pools) run in the default
// cell, whose malloc is glibc's.
#ifndef ALLOCBENCH_ADAPTERS_ADAPTER_H_
#define ALLOCBENCH_ADAPTERS_ADAPTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace allocbench {

// How an adapter may be used from several threads.
enum class Threading {
  kShared,             // One instance used by all threads; any thread may free any block.
  kPerThreadInstance,  // Each thread uses its own state; a block is freed by the thread that
                       // allocated it. Cross-thread frees are not supported.
};

// What an adapter can serve. The runner compares these with a workload's
// requirements and records a `skipped` row (with the reason) on a mismatch.
struct Capabilities {
  Threading threading = Threading::kShared;
  size_t max_size = SIZE_MAX;       // Largest request served.
  size_t fixed_size = 0;            // Nonzero: serves only requests of exactly this size.
  bool individual_free = true;      // false: memory comes back only through reset().
  size_t max_alignment = 1u << 16;  // Largest power-of-two alignment honoured.
  bool distinct_blocks = true;      // false only for the `null` calibration adapter, whose
                                    // blocks overlap (conformance skips overlap/content checks).
};

// Optional allocator-reported statistics (bytes the allocator holds from the
// OS, bytes it thinks are in use). Zero means "not reported".
struct AdapterStats {
  uint64_t bytes_mapped = 0;
  uint64_t bytes_in_use = 0;
  uint64_t fallback_allocations = 0;  // Requests served by a fallback path (e.g. too large).
};

// Thread-safety: as declared by the registry entry's caps.threading.
class Adapter {
 public:
  virtual ~Adapter() = default;

  // Returns a block of at least `size` bytes aligned to `alignment` (a power of
  // two, at least 1), or nullptr when out of memory. `size` may be 0; the
  // result is then nullptr or a unique pointer that deallocate() accepts.
  virtual void* allocate(size_t size, size_t alignment) = 0;

  // As allocate(), with the block's bytes zeroed (calloc). The default
  // allocates and clears.
  virtual void* allocate_zeroed(size_t size, size_t alignment);

  // Frees a block from allocate()/reallocate() with the same size and
  // alignment it was requested with. `p` is never nullptr.
  virtual void deallocate(void* p, size_t size, size_t alignment) = 0;

  // Resizes a block, keeping min(old_size, new_size) bytes of its contents.
  // Returns nullptr on failure, leaving the old block intact. The default
  // allocates, copies and frees.
  virtual void* reallocate(void* p, size_t old_size, size_t new_size, size_t alignment);

  // Releases every block the calling thread allocated. Called at a workload's
  // phase boundaries, where the thread holds nothing live, for adapters whose
  // caps say individual_free == false. Returns false if unsupported.
  virtual bool reset() { return false; }

  // Called on each worker thread before its first allocation and after its last.
  virtual void thread_init() {}
  virtual void thread_exit() {}

  // Fills `out` and returns true if the allocator reports statistics.
  virtual bool stats(AdapterStats* out) const {
    (void)out;
    return false;
  }

  // Checks that the process really runs this adapter's allocator (e.g. that
  // jemalloc is the malloc in use). Returns an empty string when it does, or a
  // message saying what is wrong.
  virtual std::string verify() const { return ""; }

  // Version string of the allocator, as reported by the allocator itself.
  virtual std::string version() const = 0;
};

// How the replay loop calls an adapter (runner/replay.h; docs/csv_schema.md,
// "Call cost"). Every allocator pays one call that is not inlined per request.
enum class CallPath {
  kVirtual,        // In-process adapter: one virtual call into the Adapter (its target never
                   // changes during a cell, so the indirect branch is predicted).
  kProcessMalloc,  // The process's malloc/free/calloc/realloc/posix_memalign, called directly
                   // through the PLT exactly as a C program calls them.
  kCalibration,    // The runner's calibration path: distinct pre-faulted blocks planned from
                   // the trace before the clock, one direct call that is not inlined.
};

// A registry entry: what the runner needs to know without creating the
// adapter, and a factory for the child process.
struct AdapterInfo {
  const char* name;         // CLI and CSV name, e.g. "jemalloc".
  const char* family;       // "system", "pmr", "inhouse", "calibration", "test".
  const char* cell;         // Child executable suffix: "" runs in allocbench_cell,
                            // "jemalloc" in allocbench_cell_jemalloc, and so on.
  const char* description;  // One line for `allocbench list`.
  Capabilities caps;
  std::unique_ptr<Adapter> (*create)();
  bool test_only;  // Registered only when ALLOCBENCH_TEST_ADAPTERS=1.
  CallPath call_path = CallPath::kVirtual;
  uint32_t spin_multiplier = 0;  // kCalibration only: each allocation also spins this many
                                 // times ALLOCBENCH_SPIN_NS (default 400) ns (test adapters).
  // An allocator that exists only as a shared library: its cells run in
  // allocbench_cell under LD_PRELOAD of this path (empty for the others).
  std::string preload = std::string();
  // Its version (dpkg, or NAME=PATH@VERSION); "" until known.
  std::string preload_version = std::string();
  const char* preload_package = "";  // The Debian package that ships it (built-in ones).
  // Used instead of `create` when set (adapters that need their entry).
  std::unique_ptr<Adapter> (*create_for)(const AdapterInfo&) = nullptr;
};

// A new instance of the adapter `info` describes.
inline std::unique_ptr<Adapter> make_adapter(const AdapterInfo& info) {
  return info.create_for != nullptr ? info.create_for(info) : info.create();
}

// The explicit list of adapters (adapters/registry.cpp), in listing order.
// Test-only adapters are included only when ALLOCBENCH_TEST_ADAPTERS=1.
const std::vector<AdapterInfo>& adapter_registry();

// Looks an adapter up by name; nullptr if unknown.
const AdapterInfo* find_adapter(const std::string& name);

// Registers an allocator that exists only as a shared library, from
// `NAME=PATH` or `NAME=PATH@VERSION` (--allocator-lib): a malloc-family
// adapter whose cells run under LD_PRELOAD of PATH. Naming a built-in library
// adapter (tbbmalloc, scudo) with its own path only sets its version.
// Returns "" or why the spec is refused. Not thread-safe: call before any
// lookup is kept.
std::string register_library_adapter(const std::string& spec);

// Sets the version of a library adapter (resolved by the runner).
void set_library_version(const std::string& name, const std::string& version);

// The NAME=PATH@VERSION spec that registers `info` again in another process.
std::string library_spec(const AdapterInfo& info);

}  // namespace allocbench

#endif  // ALLOCBENCH_ADAPTERS_ADAPTER_H_
