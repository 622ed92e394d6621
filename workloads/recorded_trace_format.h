// The allocbench trace format, version 1 (docs/trace_format.md): its
// constants and the byte-level encoding shared by the recorder
// (recorder/, which writes it) and the reader (workloads/recorded_trace.h).
//
// Header-only and freestanding: no allocation, no library call, no exception,
// because the recorder's LD_PRELOAD interposer includes it. Every multi-byte
// field is little-endian, written and read byte by byte (any host order).
#ifndef ALLOCBENCH_WORKLOADS_RECORDED_TRACE_FORMAT_H_
#define ALLOCBENCH_WORKLOADS_RECORDED_TRACE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>

namespace allocbench {
namespace tracefmt {

// --- file header ---------------------------------------------------------
constexpr uint8_t kMagic[8] = {'A', 'B', 'T', 'R', 'A', 'C', 'E', 0};
constexpr uint16_t kVersion = 1;
constexpr size_t kHeaderFixedBytes = 64;  // Followed by the command bytes.
constexpr size_t kMaxCommandBytes = 4096;

// Byte offsets of the header fields.
constexpr size_t kOffMagic = 0;          // 8 bytes
constexpr size_t kOffVersion = 8;        // u16
constexpr size_t kOffHeaderBytes = 10;   // u16: fixed part + command
constexpr size_t kOffFlags = 12;         // u32, 0 in version 1
constexpr size_t kOffSession = 16;       // u64: one id per `allocbench record`
constexpr size_t kOffPid = 24;           // u32
constexpr size_t kOffParentPid = 28;     // u32
constexpr size_t kOffOrigin = 32;        // u8 (Origin), then 3 zero bytes
constexpr size_t kOffPageSize = 36;      // u32: valloc's alignment
constexpr size_t kOffFirstSeq = 40;      // u64: every record's seq is larger
constexpr size_t kOffStartNs = 48;       // u64: CLOCK_REALTIME at the start, ns
constexpr size_t kOffCommandBytes = 56;  // u32, then 4 zero bytes

// How the process image that wrote the file came to be recorded.
enum Origin : uint8_t {
  kOriginRoot = 0,  // The first image of the process `allocbench record` started.
  kOriginFork = 1,  // A child of fork() (no exec yet): it inherited the parent's objects.
  kOriginExec = 2,  // Any other image: loaded by exec in a recorded process or descendant.
};

// --- chunks ----------------------------------------------------------------
// After the header the file is a sequence of chunks, each a 24-byte header
// and its payload.
constexpr size_t kChunkHeaderBytes = 24;
constexpr size_t kOffChunkType = 0;       // u8 (ChunkType), then 3 zero bytes
constexpr size_t kOffChunkThread = 4;     // u32: the thread's dense id
constexpr size_t kOffChunkPayload = 8;    // u32: payload bytes
constexpr size_t kOffChunkRecords = 12;   // u32: records in the payload (0 for a marker)
constexpr size_t kOffChunkChecksum = 16;  // u64: checksum() of the payload
constexpr uint32_t kMaxChunkPayload = 1u << 24;
constexpr uint32_t kMaxThreads = 1u << 20;  // Thread ids are below this.

enum ChunkType : uint8_t {
  kChunkRecords = 1,  // Records of one thread, in that thread's order.
  kChunkMarker = 2,   // An end marker (exit, _exit, exec, fatal signal).
};

// A marker's payload.
constexpr size_t kMarkerPayloadBytes = 24;
constexpr size_t kOffMarkerReason = 0;    // u8 (EndReason)
constexpr size_t kOffMarkerSignal = 1;    // u8: the signal, for kEndSignal; then 6 zero bytes
constexpr size_t kOffMarkerSeq = 8;       // u64: the sequence counter when it was written
constexpr size_t kOffMarkerRecords = 16;  // u64: records in the file's chunks before it

enum EndReason : uint8_t {
  kEndExit = 1,            // exit() or return from main (the recorder's ELF destructor).
  kEndUnderscoreExit = 2,  // _exit() or _Exit().
  kEndExec = 3,            // Just before an exec* call (records may follow if it failed).
  kEndSignal = 4,          // A fatal signal, caught, flushed and re-raised.
};

// --- records -----------------------------------------------------------------
// The call a record stands for. The values are the format's: never renumber.
enum class Kind : uint8_t {
  kMalloc = 1,
  kCalloc = 2,
  kRealloc = 3,      // realloc(p, n) with p known or unknown, n > 0 (or a non-NULL result)
  kReallocNull = 4,  // realloc(NULL, n): an allocation
  kReallocZero = 5,  // realloc(p, 0) that freed p and returned NULL (glibc): a free
  kFree = 6,
  kPosixMemalign = 7,
  kAlignedAlloc = 8,
  kMemalign = 9,
  kValloc = 10,
  kPvalloc = 11,
  kNew = 12,
  kNewArray = 13,
  kNewNothrow = 14,
  kNewArrayNothrow = 15,
  kNewAligned = 16,
  kNewArrayAligned = 17,
  kNewAlignedNothrow = 18,
  kNewArrayAlignedNothrow = 19,
  kDelete = 20,
  kDeleteArray = 21,
  kDeleteSized = 22,
  kDeleteArraySized = 23,
  kDeleteAligned = 24,
  kDeleteArrayAligned = 25,
  kDeleteSizedAligned = 26,
  kDeleteArraySizedAligned = 27,
  kDeleteNothrow = 28,
  kDeleteArrayNothrow = 29,
  kDeleteAlignedNothrow = 30,
  kDeleteArrayAlignedNothrow = 31,
};
constexpr unsigned kKindCount = 32;  // Kinds are 1 .. kKindCount - 1.

// A record's first byte: the kind in the low 6 bits, kFlagUnknown, bit 7 zero.
constexpr uint8_t kKindMask = 0x3f;
constexpr uint8_t kFlagUnknown = 0x40;  // The pointer was never seen allocated.
constexpr uint8_t kFlagReserved = 0x80;

enum class KindClass : uint8_t { kInvalid, kAlloc, kFree, kRealloc };

// What a kind's record holds after the first byte and the seq delta:
//   kAlloc:   size (varint), then align_log2 (u8) if `aligned`
//   kFree:    object delta (varint) unless kFlagUnknown, then size (varint)
//             if `sized`, then align_log2 (u8) if `aligned`
//   kRealloc: object delta (varint) unless kFlagUnknown, then new size (varint)
struct KindInfo {
  const char* name;
  KindClass cls;
  bool aligned;  // An alignment byte follows.
  bool sized;    // A free that carries the size the program passed.
};

constexpr KindInfo kKinds[kKindCount] = {
    {"invalid", KindClass::kInvalid, false, false},
    {"malloc", KindClass::kAlloc, false, false},
    {"calloc", KindClass::kAlloc, false, false},
    {"realloc", KindClass::kRealloc, false, false},
    {"realloc_null", KindClass::kAlloc, false, false},
    {"realloc_zero", KindClass::kFree, false, false},
    {"free", KindClass::kFree, false, false},
    {"posix_memalign", KindClass::kAlloc, true, false},
    {"aligned_alloc", KindClass::kAlloc, true, false},
    {"memalign", KindClass::kAlloc, true, false},
    {"valloc", KindClass::kAlloc, true, false},
    {"pvalloc", KindClass::kAlloc, true, false},
    {"new", KindClass::kAlloc, false, false},
    {"new[]", KindClass::kAlloc, false, false},
    {"new_nothrow", KindClass::kAlloc, false, false},
    {"new[]_nothrow", KindClass::kAlloc, false, false},
    {"new_aligned", KindClass::kAlloc, true, false},
    {"new[]_aligned", KindClass::kAlloc, true, false},
    {"new_aligned_nothrow", KindClass::kAlloc, true, false},
    {"new[]_aligned_nothrow", KindClass::kAlloc, true, false},
    {"delete", KindClass::kFree, false, false},
    {"delete[]", KindClass::kFree, false, false},
    {"delete_sized", KindClass::kFree, false, true},
    {"delete[]_sized", KindClass::kFree, false, true},
    {"delete_aligned", KindClass::kFree, true, false},
    {"delete[]_aligned", KindClass::kFree, true, false},
    {"delete_sized_aligned", KindClass::kFree, true, true},
    {"delete[]_sized_aligned", KindClass::kFree, true, true},
    {"delete_nothrow", KindClass::kFree, false, false},
    {"delete[]_nothrow", KindClass::kFree, false, false},
    {"delete_aligned_nothrow", KindClass::kFree, true, false},
    {"delete[]_aligned_nothrow", KindClass::kFree, true, false},
};

inline const KindInfo& kind_info(Kind k) { return kKinds[static_cast<uint8_t>(k)]; }

// The longest record: kind byte, three 10-byte varints, an alignment byte.
constexpr size_t kMaxRecordBytes = 32;
constexpr size_t kMaxVarintBytes = 10;

// --- encoding ------------------------------------------------------------------
inline void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t get_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (static_cast<uint16_t>(p[1]) << 8));
}
inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
inline uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// LEB128: 7 bits a byte, low bits first, high bit set on all but the last.
// Returns the bytes written (1 .. 10).
inline size_t put_varint(uint8_t* p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<uint8_t>(v);
  return n;
}

// Reads a varint from [*p, end). False if it runs past `end`, is longer than
// 10 bytes or does not fit 64 bits; *p then is unspecified.
inline bool get_varint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (*p == end) return false;
    uint8_t b = *(*p)++;
    if (shift == 63 && b > 1) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// The payload checksum: FNV-1a's prime over 8-byte little-endian words (the
// tail zero-padded), seeded with the length. About one multiply per 8 bytes;
// any change within one word changes it.
inline uint64_t checksum(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) h = (h ^ get_u64(p + i)) * 0x100000001b3ull;
  if (i < n) {
    uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t j = 0; i + j < n; ++j) tail[j] = p[i + j];
    h = (h ^ get_u64(tail)) * 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

// One record's fields as the encoder takes them.
struct RecordFields {
  Kind kind;
  bool unknown;        // kFree / kRealloc: the pointer was never seen allocated.
  uint64_t seq_delta;  // seq minus the thread's previous record's seq (>= 1).
  uint64_t obj_delta;  // kFree / kRealloc, known object: seq minus the object id.
  uint64_t size;       // Requested size (allocation, realloc); sized frees: the size passed.
  uint8_t align_log2;  // Aligned kinds.
};

// Encodes one record at `out` (room for kMaxRecordBytes). Returns its length.
inline size_t encode_record(uint8_t* out, const RecordFields& r) {
  const KindInfo& info = kind_info(r.kind);
  size_t n = 0;
  out[n++] = static_cast<uint8_t>(static_cast<uint8_t>(r.kind) | (r.unknown ? kFlagUnknown : 0));
  n += put_varint(out + n, r.seq_delta);
  if (info.cls != KindClass::kAlloc && !r.unknown) n += put_varint(out + n, r.obj_delta);
  if (info.cls != KindClass::kFree || info.sized) n += put_varint(out + n, r.size);
  if (info.aligned) out[n++] = r.align_log2;
  return n;
}

// Fills a chunk header for `payload` (n bytes, `records` records).
inline void encode_chunk_header(uint8_t* out, ChunkType type, uint32_t thread,
                                const uint8_t* payload, uint32_t n, uint32_t records) {
  for (size_t i = 0; i < kChunkHeaderBytes; ++i) out[i] = 0;
  out[kOffChunkType] = type;
  put_u32(out + kOffChunkThread, thread);
  put_u32(out + kOffChunkPayload, n);
  put_u32(out + kOffChunkRecords, records);
  put_u64(out + kOffChunkChecksum, checksum(payload, n));
}

// Fills a marker's payload.
inline void encode_marker(uint8_t* out, EndReason reason, int signal, uint64_t seq,
                          uint64_t records) {
  for (size_t i = 0; i < kMarkerPayloadBytes; ++i) out[i] = 0;
  out[kOffMarkerReason] = reason;
  out[kOffMarkerSignal] = static_cast<uint8_t>(signal);
  put_u64(out + kOffMarkerSeq, seq);
  put_u64(out + kOffMarkerRecords, records);
}

// The fixed header's fields as the encoder takes them.
struct HeaderFields {
  uint64_t session;
  uint32_t pid, parent_pid;
  Origin origin;
  uint32_t page_size;
  uint64_t first_seq;
  uint64_t start_ns;
  uint32_t command_bytes;  // At most kMaxCommandBytes.
};

// Fills the fixed header (kHeaderFixedBytes); the command bytes follow it.
inline void encode_header(uint8_t* out, const HeaderFields& h) {
  for (size_t i = 0; i < kHeaderFixedBytes; ++i) out[i] = 0;
  for (size_t i = 0; i < 8; ++i) out[kOffMagic + i] = kMagic[i];
  put_u16(out + kOffVersion, kVersion);
  put_u16(out + kOffHeaderBytes, static_cast<uint16_t>(kHeaderFixedBytes + h.command_bytes));
  put_u64(out + kOffSession, h.session);
  put_u32(out + kOffPid, h.pid);
  put_u32(out + kOffParentPid, h.parent_pid);
  out[kOffOrigin] = h.origin;
  put_u32(out + kOffPageSize, h.page_size);
  put_u64(out + kOffFirstSeq, h.first_seq);
  put_u64(out + kOffStartNs, h.start_ns);
  put_u32(out + kOffCommandBytes, h.command_bytes);
}

}  // namespace tracefmt
}  // namespace allocbench

#endif  // ALLOCBENCH_WORKLOADS_RECORDED_TRACE_FORMAT_H_
