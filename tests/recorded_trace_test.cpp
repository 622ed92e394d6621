// The trace reader (workloads/recorded_trace.h) on traces built here with the
// format's own encoders: events, the sizes it fills in, the statistics, and
// every way a file can be foreign, cut short or corrupt (a clear error, never
// a crash: this test also runs under ASan). Then `allocbench trace-info` on
// such files: its output and its exit statuses.
#include "workloads/recorded_trace.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/cli_test_util.h"
#include "workloads/recorded_replay.h"

namespace allocbench {
namespace {

namespace tf = tracefmt;
using Kind = tf::Kind;
using ErrKind = TraceError::Kind;

// One record as a test writes it: absolute seq and object id.
struct Rec {
  Kind kind;
  uint64_t seq;
  uint64_t object = 0;  // Free, realloc: the object; 0 with unknown.
  uint64_t size = 0;
  uint8_t align_log2 = 0;
  bool unknown = false;
};

Rec alloc(Kind k, uint64_t seq, uint64_t size, uint8_t align_log2 = 0) {
  return Rec{k, seq, 0, size, align_log2, false};
}
Rec free_of(Kind k, uint64_t seq, uint64_t object, uint64_t size = 0, uint8_t align_log2 = 0) {
  return Rec{k, seq, object, size, align_log2, object == 0};
}
Rec realloc_of(uint64_t seq, uint64_t object, uint64_t size) {
  return Rec{Kind::kRealloc, seq, object, size, 0, object == 0};
}

// Builds a trace file in memory, as the recorder would write it.
class Writer {
 public:
  explicit Writer(uint64_t first_seq = 0, const std::string& command = std::string("prog\0arg", 8))
      : first_seq_(first_seq) {
    tf::HeaderFields h{};
    h.session = 0xabc;
    h.pid = 42;
    h.parent_pid = 41;
    h.origin = first_seq == 0 ? tf::kOriginRoot : tf::kOriginFork;
    h.page_size = 4096;
    h.first_seq = first_seq;
    h.start_ns = 1;
    h.command_bytes = static_cast<uint32_t>(command.size());
    bytes.resize(tf::kHeaderFixedBytes);
    tf::encode_header(bytes.data(), h);
    bytes.insert(bytes.end(), command.begin(), command.end());
  }

  // The records of one thread as one chunk.
  Writer& chunk(uint32_t thread, const std::vector<Rec>& recs) {
    std::vector<uint8_t> payload;
    uint64_t& prev = prev_[thread];
    for (const Rec& r : recs) {
      uint8_t buf[tf::kMaxRecordBytes];
      tf::RecordFields f{r.kind, r.unknown,   r.seq - prev, r.unknown ? 0 : r.seq - r.object,
                         r.size, r.align_log2};
      size_t n = tf::encode_record(buf, f);
      payload.insert(payload.end(), buf, buf + n);
      prev = r.seq;
    }
    return raw_chunk(tf::kChunkRecords, thread, payload, static_cast<uint32_t>(recs.size()));
  }

  Writer& raw_chunk(uint8_t type, uint32_t thread, const std::vector<uint8_t>& payload,
                    uint32_t records) {
    chunk_offsets.push_back(bytes.size());
    uint8_t head[tf::kChunkHeaderBytes];
    tf::encode_chunk_header(head, static_cast<tf::ChunkType>(type), thread, payload.data(),
                            static_cast<uint32_t>(payload.size()), records);
    bytes.insert(bytes.end(), head, head + sizeof head);
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    if (type == tf::kChunkRecords) records_ += records;
    return *this;
  }

  Writer& marker(tf::EndReason reason, int sig = 0, int64_t records_delta = 0) {
    std::vector<uint8_t> payload(tf::kMarkerPayloadBytes);
    tf::encode_marker(payload.data(), reason, sig, 0, records_ + records_delta);
    return raw_chunk(tf::kChunkMarker, 0, payload, 0);
  }

  std::vector<uint8_t> bytes;
  std::vector<size_t> chunk_offsets;

 private:
  uint64_t first_seq_;
  std::map<uint32_t, uint64_t> prev_;
  uint64_t records_ = 0;
};

TraceError read(const std::vector<uint8_t>& b, RecordedTrace* t) {
  return t->read_bytes(b.data(), b.size(), "t.trace");
}

// Two threads; thread 1's chunk comes first in the file, yet the stats
// follow seq order.
Writer two_threads() {
  Writer w;
  w.chunk(1, {alloc(Kind::kNew, 3, 40), free_of(Kind::kFree, 5, 1), free_of(Kind::kDelete, 7, 3)});
  w.chunk(0, {alloc(Kind::kMalloc, 1, 100), alloc(Kind::kPosixMemalign, 2, 64, 6),
              realloc_of(4, 1, 300), free_of(Kind::kFree, 6, 2)});
  w.marker(tf::kEndExit);
  return w;
}

TEST(RecordedTrace, EventsInThreadOrderWithTheSizesFilledIn) {
  RecordedTrace t;
  TraceError err = read(two_threads().bytes, &t);
  ASSERT_FALSE(err) << err.message;
  EXPECT_EQ(t.header().pid, 42u);
  EXPECT_EQ(t.header().origin, tf::kOriginRoot);
  EXPECT_EQ(t.header().command, (std::vector<std::string>{"prog", "arg"}));
  ASSERT_EQ(t.threads().size(), 2u);
  const RecordedThread& t0 = t.threads()[0];
  const RecordedThread& t1 = t.threads()[1];
  EXPECT_EQ(t0.id, 0u);
  EXPECT_EQ(t1.id, 1u);
  ASSERT_EQ(t0.events.size(), 4u);
  ASSERT_EQ(t1.events.size(), 3u);
  EXPECT_EQ(t0.events[0].kind, Kind::kMalloc);
  EXPECT_EQ(t0.events[0].object, 1u);
  EXPECT_EQ(t0.events[0].alignment, 0u);
  EXPECT_EQ(t0.events[1].alignment, 64u);
  const RecordedEvent& re = t0.events[2];  // realloc of object 1
  EXPECT_EQ(re.seq, 4u);
  EXPECT_EQ(re.object, 1u);
  EXPECT_EQ(re.size, 300u);
  EXPECT_EQ(re.old_size, 100u);
  EXPECT_EQ(t0.events[3].size, 64u);  // free of the posix_memalign block
  EXPECT_EQ(t0.events[3].alignment, 64u);
  EXPECT_EQ(t1.events[1].object, 1u);  // freed by thread 1, after its realloc
  EXPECT_EQ(t1.events[1].size, 300u);
  EXPECT_EQ(t1.events[2].size, 40u);
  const RecordedTraceStats& s = t.stats();
  EXPECT_TRUE(t.complete());
  EXPECT_EQ(s.end, tf::kEndExit);
  EXPECT_EQ(s.events, 7u);
  EXPECT_EQ(s.allocations, 3u);
  EXPECT_EQ(s.frees, 3u);
  EXPECT_EQ(s.reallocs, 1u);
  EXPECT_EQ(s.by_kind[static_cast<int>(Kind::kFree)], 2u);
  EXPECT_EQ(s.by_kind[static_cast<int>(Kind::kDelete)], 1u);
  EXPECT_EQ(s.size_histogram[6], 1u);  // 40
  EXPECT_EQ(s.size_histogram[7], 2u);  // 100, 64
  EXPECT_EQ(s.size_histogram[9], 1u);  // 300
  EXPECT_EQ(s.peak_live_bytes, 404u);  // at seq 4: 300 + 64 + 40
  EXPECT_EQ(s.peak_live_objects, 3u);
  EXPECT_EQ(s.cross_thread_frees, 1u);
  EXPECT_EQ(s.leaked_objects, 0u);
  EXPECT_EQ(s.missing_seqs, 0u);
  EXPECT_EQ(s.chunks, 2u);
  uint64_t hist = 0;
  for (uint64_t h : s.size_histogram) hist += h;
  EXPECT_EQ(hist, s.allocations + s.reallocs);
}

TEST(RecordedTrace, UnknownAndInheritedObjects) {
  Writer w(100);  // A fork child: objects up to 100 are the parent's.
  w.chunk(0, {free_of(Kind::kFree, 101, 0), realloc_of(102, 0, 10), free_of(Kind::kFree, 103, 50),
              realloc_of(104, 60, 20), free_of(Kind::kFree, 105, 60),
              free_of(Kind::kDeleteSizedAligned, 106, 0, 48, 6), free_of(Kind::kFree, 107, 102),
              alloc(Kind::kMalloc, 108, 5)});
  w.marker(tf::kEndUnderscoreExit);
  RecordedTrace t;
  TraceError err = read(w.bytes, &t);
  ASSERT_FALSE(err) << err.message;
  const auto& ev = t.threads().at(0).events;
  EXPECT_EQ(ev[0].object, 0u);
  EXPECT_EQ(ev[0].flags, kEventUnknownObject);
  EXPECT_EQ(ev[1].object, 102u);  // A realloc of an unknown block starts an object.
  EXPECT_EQ(ev[1].old_size, 0u);
  EXPECT_EQ(ev[2].flags, kEventInherited);
  EXPECT_EQ(ev[3].flags, kEventInherited);
  EXPECT_EQ(ev[4].size, 20u);  // The inherited object, after its realloc here.
  EXPECT_EQ(ev[4].flags, 0u);
  EXPECT_EQ(ev[5].size, 48u);  // Sized and aligned delete of an unknown pointer: its arguments.
  EXPECT_EQ(ev[5].alignment, 64u);
  EXPECT_EQ(ev[6].size, 10u);
  const RecordedTraceStats& s = t.stats();
  EXPECT_EQ(t.header().first_seq, 100u);
  EXPECT_EQ(s.unknown_frees, 2u);
  EXPECT_EQ(s.unknown_reallocs, 1u);
  EXPECT_EQ(s.inherited_frees, 1u);
  EXPECT_EQ(s.inherited_reallocs, 1u);
  EXPECT_EQ(s.unmatched, 0u);
  EXPECT_EQ(s.leaked_objects, 1u);
  EXPECT_EQ(s.leaked_bytes, 5u);
  EXPECT_EQ(s.end, tf::kEndUnderscoreExit);
}

TEST(RecordedTrace, AFileWithoutEndMarkerIsReadAsIncomplete) {
  Writer w;
  // Events 1 and 2 were lost with the killed process; 3 frees object 2.
  w.chunk(0, {alloc(Kind::kMalloc, 4, 8), free_of(Kind::kFree, 5, 2)});
  RecordedTrace t;
  TraceError err = read(w.bytes, &t);
  ASSERT_FALSE(err) << err.message;
  EXPECT_FALSE(t.complete());
  EXPECT_EQ(t.stats().end, 0);
  EXPECT_EQ(t.stats().unmatched, 1u);
  EXPECT_EQ(t.threads()[0].events[1].flags, kEventUnmatched);
  EXPECT_EQ(t.stats().missing_seqs, 3u);
  EXPECT_EQ(t.stats().leaked_objects, 1u);
}

TEST(RecordedTrace, ASignalMarkerAndRecordsAfterAnExecMarker) {
  Writer w;
  w.chunk(0, {alloc(Kind::kMalloc, 1, 8)}).marker(tf::kEndExec);  // exec failed: recording went on
  w.chunk(0, {free_of(Kind::kFree, 2, 1)}).marker(tf::kEndSignal, 11);
  RecordedTrace t;
  TraceError err = read(w.bytes, &t);
  ASSERT_FALSE(err) << err.message;
  EXPECT_EQ(t.stats().markers, 2u);
  EXPECT_EQ(t.stats().end, tf::kEndSignal);
  EXPECT_EQ(t.stats().end_signal, 11);
  EXPECT_EQ(t.stats().leaked_objects, 0u);
}

// A valid trace with one chunk whose payload is `payload` (checksum right).
std::vector<uint8_t> with_payload(const std::vector<uint8_t>& payload, uint32_t records,
                                  uint8_t type = tf::kChunkRecords) {
  Writer w;
  w.raw_chunk(type, 0, payload, records);
  return w.bytes;
}

struct BadCase {
  const char* what;
  std::vector<uint8_t> bytes;
  ErrKind kind;
  std::string message;  // Part of the message.
};

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> cases;
  const std::vector<uint8_t> good = two_threads().bytes;
  const Writer gw = two_threads();
  auto mutate = [&](size_t at, uint8_t v) {
    std::vector<uint8_t> b = good;
    b[at] = v;
    return b;
  };
  auto cut = [&](size_t n) { return std::vector<uint8_t>(good.begin(), good.begin() + n); };
  cases.push_back({"empty", {}, ErrKind::kTruncated, "t.trace: truncated: empty file"});
  cases.push_back({"elf",
                   {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0},
                   ErrKind::kForeign,
                   "t.trace: not an allocbench trace"});
  cases.push_back({"text", std::vector<uint8_t>(100, 'x'), ErrKind::kForeign, "not an allocbench"});
  cases.push_back({"magic cut", cut(5), ErrKind::kTruncated, "header cut short: 5 of 64 bytes"});
  cases.push_back({"version", mutate(tf::kOffVersion, 2), ErrKind::kVersion,
                   "t.trace: trace format version 2; this allocbench reads version 1"});
  cases.push_back({"header cut", cut(30), ErrKind::kTruncated, "header cut short: 30 of 64"});
  cases.push_back({"command cut", cut(66), ErrKind::kTruncated, "header cut short in the command"});
  cases.push_back({"flags", mutate(tf::kOffFlags, 1), ErrKind::kCorrupt, "unknown flags 1"});
  cases.push_back({"origin", mutate(tf::kOffOrigin, 9), ErrKind::kCorrupt, "unknown origin 9"});
  cases.push_back({"header size", mutate(tf::kOffHeaderBytes, 99), ErrKind::kCorrupt,
                   "header: size 99 is not 64"});
  const size_t c0 = gw.chunk_offsets[0], c1 = gw.chunk_offsets[1];
  cases.push_back({"chunk header cut", cut(c0 + 10), ErrKind::kTruncated,
                   "chunk header at byte " + std::to_string(c0) + " cut short: 10 of 24 bytes"});
  cases.push_back({"payload cut", cut(c1 + 30), ErrKind::kTruncated,
                   "chunk at byte " + std::to_string(c1) + " cut short"});
  cases.push_back({"checksum", mutate(c1 + tf::kChunkHeaderBytes + 1, 0x55), ErrKind::kCorrupt,
                   "chunk at byte " + std::to_string(c1) + ": checksum mismatch"});
  cases.push_back({"chunk type", mutate(c0, 7), ErrKind::kCorrupt, "unknown type 7"});
  cases.push_back({"chunk reserved", mutate(c0 + 2, 1), ErrKind::kCorrupt, "reserved bytes"});
  cases.push_back(
      {"kind 0", with_payload({0x00, 1, 8}, 1), ErrKind::kCorrupt, "unknown kind byte 0"});
  cases.push_back(
      {"kind 40", with_payload({40, 1, 8}, 1), ErrKind::kCorrupt, "unknown kind byte 40"});
  cases.push_back(
      {"reserved bit", with_payload({0x81, 1, 8}, 1), ErrKind::kCorrupt, "unknown kind byte 129"});
  cases.push_back({"unknown alloc", with_payload({0x41, 1, 8}, 1), ErrKind::kCorrupt,
                   "an allocation marked as of an unknown pointer"});
  cases.push_back({"delta 0", with_payload({1, 0, 8}, 1), ErrKind::kCorrupt, "sequence delta 0"});
  cases.push_back({"varint", with_payload({1, 0x80, 0x80}, 1), ErrKind::kCorrupt,
                   "the sequence delta runs past its chunk or overflows"});
  cases.push_back(
      {"long varint",
       with_payload({1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 8}, 1),
       ErrKind::kCorrupt, "overflows"});
  cases.push_back({"object delta", with_payload({1, 1, 8, 6, 1, 2}, 2), ErrKind::kCorrupt,
                   "object delta 2 at sequence 2"});
  cases.push_back(
      {"alignment", with_payload({7, 1, 8, 40}, 1), ErrKind::kCorrupt, "alignment 2^40"});
  cases.push_back({"alignment cut", with_payload({7, 1, 8}, 1), ErrKind::kCorrupt,
                   "alignment runs past its chunk"});
  cases.push_back({"too few records", with_payload({1, 1, 8, 1, 1, 8}, 3), ErrKind::kCorrupt,
                   "declares 3 records and holds 2"});
  cases.push_back({"trailing bytes", with_payload({1, 1, 8, 1, 1, 8}, 1), ErrKind::kCorrupt,
                   "3 bytes after its 1 records"});
  cases.push_back({"no records", with_payload({}, 0), ErrKind::kCorrupt, "no records"});
  cases.push_back({"marker size", with_payload({1, 2, 3}, 0, tf::kChunkMarker), ErrKind::kCorrupt,
                   "marker at byte"});
  {
    Writer w;
    w.chunk(0, {alloc(Kind::kMalloc, 1, 8)}).marker(tf::kEndExit, 0, 5);
    cases.push_back(
        {"marker count", w.bytes, ErrKind::kCorrupt, "counts 6 records before it, the file has 1"});
  }
  {
    Writer w;
    w.chunk(0,
            {alloc(Kind::kMalloc, 1, 8), free_of(Kind::kFree, 2, 1), free_of(Kind::kFree, 3, 1)});
    cases.push_back({"double free", w.bytes, ErrKind::kCorrupt,
                     "free at sequence 3 (thread 0) of object 1, which was already freed"});
  }
  {
    Writer w;
    w.chunk(0, {alloc(Kind::kMalloc, 1, 8), free_of(Kind::kFree, 2, 1), realloc_of(3, 1, 9)});
    cases.push_back({"realloc after free", w.bytes, ErrKind::kCorrupt, "already freed"});
  }
  {
    Writer w;
    w.chunk(0, {alloc(Kind::kMalloc, 1, 8)}).chunk(1, {alloc(Kind::kMalloc, 1, 8)});
    cases.push_back({"seq twice", w.bytes, ErrKind::kCorrupt, "sequence number 1 appears twice"});
  }
  {
    Writer w(10);
    w.chunk(0, {alloc(Kind::kMalloc, 10, 8)});
    cases.push_back({"seq below first", w.bytes, ErrKind::kCorrupt,
                     "sequence number 10 is not above the header's first 10"});
  }
  {
    Writer w;
    w.chunk(0, {alloc(Kind::kMalloc, 1ull << 40, 8)});
    cases.push_back({"seq span", w.bytes, ErrKind::kCorrupt, "with only 1 events"});
  }
  {
    Writer w;
    w.raw_chunk(tf::kChunkRecords, tf::kMaxThreads, {1, 1, 8}, 1);
    cases.push_back({"thread id", w.bytes, ErrKind::kCorrupt, "thread id 1048576"});
  }
  return cases;
}

TEST(RecordedTrace, BadFilesGiveClearErrors) {
  for (const BadCase& c : bad_cases()) {
    RecordedTrace t;
    TraceError err = read(c.bytes, &t);
    EXPECT_EQ(err.kind, c.kind) << c.what << ": " << err.message;
    EXPECT_NE(err.message.find(c.message), std::string::npos)
        << c.what << ": '" << err.message << "' lacks '" << c.message << "'";
    EXPECT_TRUE(t.threads().empty()) << c.what;
    EXPECT_EQ(t.stats().events, 0u) << c.what;
  }
}

TEST(RecordedTrace, EveryPrefixIsWholeChunksOrTruncated) {
  const Writer w = two_threads();
  size_t ok = 0;
  for (size_t n = 0; n < w.bytes.size(); ++n) {
    RecordedTrace t;
    TraceError err = t.read_bytes(w.bytes.data(), n, "p");
    bool boundary = n == tf::kHeaderFixedBytes + 8;
    for (size_t off : w.chunk_offsets) boundary = boundary || n == off;
    if (boundary) {
      EXPECT_FALSE(err) << n << ": " << err.message;
      ++ok;
    } else {
      EXPECT_EQ(err.kind, ErrKind::kTruncated) << n << ": " << err.message;
    }
  }
  EXPECT_EQ(ok, 3u);  // The header alone, and after each of the two record chunks.
}

// Every byte of a good file replaced by a few values: any verdict, no crash
// (ASan in the sanitizer build), and an error always says which file.
TEST(RecordedTrace, NoByteChangeCrashesTheReader) {
  const std::vector<uint8_t> good = two_threads().bytes;
  size_t errors = 0, runs = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t v : {uint8_t{0}, uint8_t{0xff}, static_cast<uint8_t>(good[i] ^ 1),
                      static_cast<uint8_t>(good[i] ^ 0x80)}) {
      if (v == good[i]) continue;
      std::vector<uint8_t> b = good;
      b[i] = v;
      RecordedTrace t;
      TraceError err = read(b, &t);
      ++runs;
      if (err) {
        ++errors;
        EXPECT_EQ(err.message.rfind("t.trace: ", 0), 0u) << err.message;
      }
    }
  }
  // Only header fields without a check (session, pids, time, page size, the
  // command text, the marker's seq) may change unnoticed.
  EXPECT_GT(errors, runs / 2);
}

TEST(RecordedTrace, ReadFileReportsTheOsError) {
  RecordedTrace t;
  TraceError err = t.read_file("/nonexistent/x.trace");
  EXPECT_EQ(err.kind, ErrKind::kIo);
  EXPECT_EQ(err.message, "/nonexistent/x.trace: cannot open: No such file or directory");
  err = t.read_file("/");
  EXPECT_EQ(err.kind, ErrKind::kIo);
  EXPECT_EQ(err.message, "/: cannot read: Is a directory");
}

void write_file(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

TEST(TraceInfo, PrintsTheCountsAndFailsCleanlyOnBadFiles) {
  using namespace cli_test;
  const std::string dir = temp_dir();
  write_file(dir + "/good.trace", two_threads().bytes);
  Result r = sh(bin() + " trace-info " + dir + "/good.trace");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // trace-info's layout: the key padded to 28 columns, a space, the value.
  auto line = [](const std::string& key, const std::string& value) {
    return "\n" + key + std::string(28 - key.size(), ' ') + " " + value + "\n";
  };
  for (const std::string& l :
       {line("process", "pid 42 (root), parent 41"), line("command", "prog arg"),
        line("ended", "exit"), line("threads", "2"), line("events", "7"), line("op malloc", "1"),
        line("op free", "2"), line("op delete", "1"), line("op new[]", "0"),
        line("size 32-63", "1"), line("size 64-127", "2"), line("size 256-511", "1"),
        line("peak_live_bytes", "404"), line("cross_thread_frees", "1"), line("unknown_frees", "0"),
        line("leaked_objects", "0"), line("thread 1", "3")}) {
    EXPECT_NE(r.out.find(l), std::string::npos) << "no line '" << l << "' in\n" << r.out;
  }
  // Bad files: one line naming the file and the fault, exit 4, nothing on stdout.
  for (const BadCase& c : bad_cases()) {
    const std::string path = dir + "/bad.trace";
    write_file(path, c.bytes);
    Result b = sh(bin() + " trace-info " + path);
    EXPECT_EQ(b.code, 4) << c.what << ": " << b.err;
    EXPECT_EQ(b.out, "") << c.what;
    std::string msg = c.message;
    if (msg.rfind("t.trace: ", 0) == 0) msg = msg.substr(9);
    EXPECT_EQ(b.err.rfind("allocbench: " + path + ": ", 0), 0u) << b.err;
    EXPECT_NE(b.err.find(msg), std::string::npos) << c.what << ": " << b.err;
  }
  Result missing = sh(bin() + " trace-info " + dir + "/nosuch.trace");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("cannot open: No such file or directory"), std::string::npos);
  Result none = sh(bin() + " trace-info");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("trace-info needs a FILE"), std::string::npos) << none.err;
  Result two = sh(bin() + " trace-info a b");
  EXPECT_EQ(two.code, 2);
  // No end marker: read, with a warning.
  Writer w;
  w.chunk(0, {alloc(Kind::kMalloc, 1, 8)});
  write_file(dir + "/cut.trace", w.bytes);
  Result cut = sh(bin() + " trace-info " + dir + "/cut.trace");
  EXPECT_EQ(cut.code, 0);
  EXPECT_NE(cut.out.find(line("ended", "incomplete: no end marker")), std::string::npos) << cut.out;
  EXPECT_NE(cut.err.find("has no end marker"), std::string::npos) << cut.err;
}

// ---- The replay of a recorded trace (workloads/recorded_replay.h) ----

RecordedReplay replay_of(const Writer& w, uint64_t file_hash = 7) {
  RecordedTrace t;
  TraceError err = read(w.bytes, &t);
  EXPECT_FALSE(err) << err.message;
  RecordedReplay r;
  std::string conv = build_recorded_replay(t, file_hash, &r);
  EXPECT_EQ(conv, "");
  return r;
}

// "kind size slot align channel" per op, for comparing whole traces.
std::vector<std::string> ops_of(const ThreadTrace& t) {
  static const char* kNames[] = {"alloc", "free", "realloc", "phase", "calloc",
                                 "push",  "pop",  "toggle",  "write"};
  std::vector<std::string> out;
  for (const Op& op : t.ops) {
    out.push_back(std::string(kNames[static_cast<int>(op.kind)]) + " " + std::to_string(op.size) +
                  " s" + std::to_string(op.slot) + " a" + std::to_string(op.align_log2) + " c" +
                  std::to_string(op.channel));
  }
  return out;
}

TEST(RecordedReplay, OneThreadKeepsEveryCallAndRepairsTheRest) {
  Writer w;
  w.chunk(0, {alloc(Kind::kMalloc, 1, 100), alloc(Kind::kCalloc, 2, 24),
              alloc(Kind::kPosixMemalign, 3, 64, 7), realloc_of(4, 1, 5000),
              free_of(Kind::kFree, 5, 0),  // unknown: dropped
              realloc_of(6, 0, 40),        // unknown: an allocation of 40
              free_of(Kind::kFree, 7, 2), alloc(Kind::kNew, 8, 8), free_of(Kind::kDelete, 9, 8),
              alloc(Kind::kMalloc, 10, 3)});  // objects 1, 3, 6 and 10 leak
  w.marker(tf::kEndExit);
  RecordedReplay r = replay_of(w);
  ASSERT_EQ(r.threads.size(), 1u);
  const ThreadTrace& t = r.threads[0];
  EXPECT_EQ(ops_of(t),
            (std::vector<std::string>{
                "alloc 100 s0 a4 c0", "calloc 24 s1 a4 c0", "alloc 64 s2 a7 c0",
                "realloc 5000 s0 a4 c0", "alloc 40 s3 a4 c0", "free 24 s1 a4 c0",
                "alloc 8 s1 a3 c0", "free 8 s1 a3 c0", "alloc 3 s1 a3 c0",
                // The untimed tail: the leaks, oldest slot first.
                "free 5000 s0 a4 c0", "free 3 s1 a3 c0", "free 64 s2 a7 c0", "free 40 s3 a4 c0"}));
  EXPECT_TRUE(t.recorded);
  EXPECT_EQ(t.untimed_tail, 4u);
  EXPECT_EQ(t.dropped_frees, 1u);
  EXPECT_EQ(t.unknown_reallocs, 1u);
  EXPECT_EQ(r.req.exact_threads, 1u);
  EXPECT_EQ(r.req.max_size, 5000u);
  EXPECT_EQ(r.req.max_alignment, 128u);
  EXPECT_FALSE(r.req.cross_thread_frees);
  EXPECT_EQ(r.transfers, 0u);
}

// A free by another thread than the holder is a handover: a push at the
// holder's last event before the free, a pop just before the free.
TEST(RecordedReplay, ACrossThreadFreeIsAHandoverAtTheHoldersLastEventBeforeIt) {
  RecordedReplay r = replay_of(two_threads());
  ASSERT_EQ(r.threads.size(), 2u);
  EXPECT_EQ(r.recorded_ids, (std::vector<uint32_t>{0, 1}));
  // Thread 0: malloc 100 (1), posix_memalign 64 (2), realloc 1 to 300 (4),
  // free 2 (6). Thread 1: new 40 (3), free 1 (5), delete 3 (7).
  EXPECT_EQ(
      ops_of(r.threads[0]),
      (std::vector<std::string>{"alloc 100 s0 a4 c0", "alloc 64 s1 a6 c0", "realloc 300 s0 a4 c0",
                                "push 300 s0 a4 c0", "free 64 s1 a6 c0"}));
  EXPECT_EQ(ops_of(r.threads[1]),
            (std::vector<std::string>{"alloc 40 s0 a4 c0", "pop 300 s1 a4 c0", "free 300 s1 a4 c0",
                                      "free 40 s0 a4 c0"}));
  EXPECT_EQ(r.transfers, 1u);
  EXPECT_EQ(r.channels, 1u);
  EXPECT_TRUE(r.req.cross_thread_frees);
  EXPECT_EQ(r.req.exact_threads, 2u);
  EXPECT_EQ(r.threads[0].untimed_tail + r.threads[1].untimed_tail, 0u);
}

// More blocks in flight between two threads than one channel holds: the pair
// is spread round robin over enough channels that no push ever waits, so a
// replay cannot deadlock however far one thread runs ahead.
TEST(RecordedReplay, APairWithMoreInFlightThanAChannelHoldsGetsMoreChannels) {
  const uint64_t n = 2 * kChannelCapacity + 5;
  std::vector<Rec> producer, consumer;
  for (uint64_t i = 1; i <= n; ++i) producer.push_back(alloc(Kind::kMalloc, i, 32));
  for (uint64_t i = 1; i <= n; ++i) consumer.push_back(free_of(Kind::kFree, n + i, i));
  Writer w;
  w.chunk(0, producer).chunk(1, consumer).marker(tf::kEndExit);
  RecordedReplay r = replay_of(w);
  ASSERT_EQ(r.threads.size(), 2u);
  EXPECT_EQ(r.channels, 3u);
  EXPECT_EQ(r.transfers, n);
  std::vector<uint64_t> per_channel(3, 0), pushed, popped;
  for (const Op& op : r.threads[0].ops) {
    if (op.kind != OpKind::kPush) continue;
    ASSERT_LT(op.channel, 3u);
    ++per_channel[op.channel];
    pushed.push_back(op.channel);
  }
  for (const Op& op : r.threads[1].ops) {
    if (op.kind == OpKind::kPop) popped.push_back(op.channel);
  }
  for (uint64_t c : per_channel) EXPECT_LE(c, kChannelCapacity);
  EXPECT_EQ(pushed, popped);  // Each channel's pops meet its pushes in order.
  EXPECT_EQ(pushed.size(), n);
}

TEST(RecordedReplay, TheHashFollowsTheFileAndAFileWithNothingToReplayIsRefused) {
  RecordedReplay a = replay_of(two_threads(), 1), b = replay_of(two_threads(), 2),
                 c = replay_of(two_threads(), 1);
  EXPECT_NE(a.threads[0].hash, b.threads[0].hash);
  EXPECT_EQ(a.threads[0].hash, c.threads[0].hash);
  Writer w;
  w.chunk(0, {free_of(Kind::kFree, 1, 0)}).marker(tf::kEndExit);
  RecordedTrace t;
  ASSERT_FALSE(read(w.bytes, &t));
  RecordedReplay r;
  EXPECT_EQ(build_recorded_replay(t, 0, &r), "the trace has no allocation to replay");
}

// A fork child reallocs an inherited object and frees it: the realloc is an
// allocation (a repair), the free then frees it.
TEST(RecordedReplay, AnInheritedObjectReallocatedHereIsReplayedFromItsRealloc) {
  Writer w(100);
  w.chunk(0,
          {free_of(Kind::kFree, 101, 50), realloc_of(102, 60, 20), free_of(Kind::kFree, 103, 60)});
  w.marker(tf::kEndExit);
  RecordedReplay r = replay_of(w);
  ASSERT_EQ(r.threads.size(), 1u);
  EXPECT_EQ(ops_of(r.threads[0]),
            (std::vector<std::string>{"alloc 20 s0 a4 c0", "free 20 s0 a4 c0"}));
  EXPECT_EQ(r.threads[0].dropped_frees, 1u);
  EXPECT_EQ(r.threads[0].unknown_reallocs, 1u);
}

// `allocbench run --workloads trace:FILE`: one row per allocator at the
// trace's thread count whatever --threads says, the repairs in their
// columns, one trace_hash per file; a bad file is refused before any cell.
TEST(RecordedReplay, RunReplaysATraceFileWithEveryAllocator) {
  using namespace cli_test;
  const std::string dir = temp_dir();
  Writer w = two_threads();
  write_file(dir + "/two.trace", w.bytes);
  Writer leaky;
  leaky.chunk(0, {alloc(Kind::kMalloc, 1, 64), free_of(Kind::kFree, 2, 0)}).marker(tf::kEndExit);
  write_file(dir + "/leaky.trace", leaky.bytes);
  Result r = sh(bin() +
                " run --allocators glibc,pool_tls --threads 1,4 --reps 1 --workloads trace:" + dir +
                "/two.trace,trace:" + dir + "/leaky.trace --out " + dir + "/run");
  ASSERT_EQ(r.code, 0) << r.err;
  auto rs = rows(dir + "/run/results.csv");
  // glibc, an in-process adapter (built in the sanitizer builds too, unlike
  // jemalloc's cell) and the calibration; 2 traces, one thread count each.
  ASSERT_EQ(rs.size(), 6u);
  std::map<std::string, std::string> hash_of;
  for (auto& row : rs) {
    EXPECT_EQ(row["status"], "ok") << row["allocator"] << " " << row["error"];
    const bool two = row["profile"] == dir + "/two.trace";
    EXPECT_EQ(row["threads"], two ? "2" : "1");
    EXPECT_EQ(row["repair_dropped_frees"], two ? "0" : "1");
    EXPECT_EQ(row["repair_leaks_freed"], two ? "0" : "1");
    EXPECT_EQ(row["total_ops"], two ? "9" : "1");  // the leak's free is not timed
    if (hash_of.count(row["profile"]) != 0) {
      EXPECT_EQ(hash_of[row["profile"]], row["trace_hash"]);
    }
    hash_of[row["profile"]] = row["trace_hash"];
  }
  EXPECT_NE(hash_of[dir + "/two.trace"], hash_of[dir + "/leaky.trace"]);

  write_file(dir + "/bad.trace", std::vector<uint8_t>{'n', 'o', 't'});
  Result bad = sh(bin() + " run --allocators glibc --workloads trace:" + dir + "/bad.trace --out " +
                  dir + "/bad");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find(dir + "/bad.trace: "), std::string::npos) << bad.err;
  EXPECT_FALSE(exists(dir + "/bad/results.csv"));
  Result missing = sh(bin() + " run --allocators glibc --workloads trace:" + dir +
                      "/nosuch.trace --out " + dir + "/missing");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot open the trace file"), std::string::npos) << missing.err;
  Result bare = sh(bin() + " run --allocators glibc --workloads trace --out " + dir + "/bare");
  EXPECT_EQ(bare.code, 2);
  EXPECT_NE(bare.err.find("needs a file: trace:PATH"), std::string::npos) << bare.err;
}

// The traces shipped in workloads/traces/ read, convert and replay; the
// smallest (sqlite3) runs a cell. Its ops are pinned, so a change to the
// file or to the conversion shows here.
TEST(RecordedReplay, TheShippedTracesReplay) {
  using namespace cli_test;
  for (const char* name : {"sqlite3", "python_dicts", "gxx_cc1plus"}) {
    RecordedReplay r;
    const std::string path = std::string(ALLOCBENCH_TRACES) + "/" + name + ".trace";
    ASSERT_EQ(load_recorded_replay(path, &r), "") << name;
    ASSERT_EQ(r.threads.size(), 1u) << name;
    EXPECT_GT(r.threads[0].ops.size(), 100000u) << name;
    EXPECT_EQ(r.threads[0].allocs, r.threads[0].frees) << name;  // The tail frees the leaks.
  }
  RecordedReplay sq;
  ASSERT_EQ(load_recorded_replay(std::string(ALLOCBENCH_TRACES) + "/sqlite3.trace", &sq), "");
  EXPECT_EQ(sq.threads[0].ops.size(), 285377u + 16u);  // every event, then 16 leak frees
  EXPECT_EQ(sq.threads[0].untimed_tail, 16u);
  const std::string dir = temp_dir();
  Result run = sh(bin() + " run --allocators glibc --reps 1 --workloads trace:" +
                  std::string(ALLOCBENCH_TRACES) + "/sqlite3.trace --out " + dir + "/run");
  ASSERT_EQ(run.code, 0) << run.err;
  auto rs = rows(dir + "/run/results.csv");
  ASSERT_EQ(rs.size(), 2u);
  for (auto& row : rs) {
    EXPECT_EQ(row["status"], "ok") << row["allocator"] << ": " << row["error"];
    EXPECT_EQ(row["total_ops"], "285377");  // every event; the leaks' frees are untimed
  }
}

}  // namespace
}  // namespace allocbench
