// The bound on a guest's log (log_rate_limit) and the default handler's use
// of it: a burst, then the rate; refusals counted and said, never silent.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/core/guest_log.hpp"
#include "actors/core/log_rate_limit.hpp"

using uvm::logging::guest_record;
using uvm::logging::log_rate;
using uvm::logging::log_rate_limit;
using namespace std::chrono_literals;

namespace {

const log_rate_limit::clock::time_point t0{};

// `n` entries, each a line of valid logrus JSON.
std::string entries(int n, const std::string& msg = "e") {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += R"({"level":"info","msg":")" + msg + std::to_string(i) + "\"}\n";
  }
  return out;
}

// A rate-limited handler on a clock the test moves.
struct limited {
  log_rate_limit::clock::time_point now = t0;
  std::vector<guest_record> records;
  uvm::output_handler handler;

  explicit limited(log_rate rate)
      : handler(uvm::logging::rate_limited_handler(
            "vm-1", rate, [this](guest_record r) { records.push_back(std::move(r)); },
            [this] { return now; })) {}

  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (auto& r : records) {
      out.push_back(r.msg);
    }
    return out;
  }
};

} // namespace

TEST_CASE("log rate: a burst at once, then the rate, refusals counted", "[log_rate]") {
  using v = log_rate_limit::verdict;
  log_rate_limit limit{{10, 3}, t0};
  CHECK(limit.admit(t0) == v::log);
  CHECK(limit.admit(t0) == v::log);
  CHECK(limit.admit(t0) == v::log);
  CHECK_FALSE(limit.limiting());
  CHECK(limit.admit(t0) == v::drop_first);
  CHECK(limit.limiting());
  CHECK(limit.admit(t0 + 50ms) == v::drop); // half a token so far
  CHECK(limit.admit(t0 + 100ms) == v::log);
  CHECK(limit.admit(t0 + 100ms) == v::drop);
  CHECK(limit.limiting());
  CHECK(limit.dropped() == 3);
  CHECK(limit.take_dropped() == 3);
  CHECK(limit.take_dropped() == 0);
  // A long pause refills the burst, no more, and ends the flood: the next
  // refusal is a first one again.
  CHECK(limit.admit(t0 + 1h) == v::log);
  CHECK_FALSE(limit.limiting());
  CHECK(limit.admit(t0 + 1h) == v::log);
  CHECK(limit.admit(t0 + 1h) == v::log);
  CHECK(limit.admit(t0 + 1h) == v::drop_first);
}

TEST_CASE("log rate: zero per second is no bound; a zero burst is one", "[log_rate]") {
  using v = log_rate_limit::verdict;
  log_rate_limit open{{0, 0}, t0};
  for (int i = 0; i < 100000; ++i) {
    REQUIRE(open.admit(t0) == v::log);
  }
  CHECK(open.dropped() == 0);
  log_rate_limit one{{1, 0}, t0};
  CHECK(one.rate().burst == 1);
  CHECK(one.admit(t0) == v::log);
  CHECK(one.admit(t0) == v::drop_first);
  CHECK(one.admit(t0 + 1s) == v::log);
}

TEST_CASE("guest log: a flood is cut to the rate and the cut is said", "[log_rate][guest_log]") {
  limited l{{100, 500}};
  l.handler(entries(1000), false);
  // The burst, then one warning for the rest.
  REQUIRE(l.records.size() == 501);
  CHECK(l.records[499].msg == "e499");
  auto& cut = l.records[500];
  CHECK(cut.msg == "gcs log rate limit reached");
  CHECK(cut.lvl == uvm::logging::level::warn);
  CHECK(cut.fields["uvm-id"] == "vm-1");
  CHECK(cut.fields["per-second"] == 100);
  CHECK(cut.fields["burst"] == 500);
  // A second on, still flooding: a second's worth passes, the first after
  // the count so far; no second warning.
  l.now += 1s;
  l.handler(entries(150, "f"), false);
  REQUIRE(l.records.size() == 602);
  CHECK(l.records[501].msg == "gcs log entries dropped");
  CHECK(l.records[501].lvl == uvm::logging::level::warn);
  CHECK(l.records[501].fields["dropped"] == 500);
  CHECK(l.records[501].fields["uvm-id"] == "vm-1");
  CHECK(l.records[502].msg == "f0");
  CHECK(l.records[601].msg == "f99");
  // Within the second: what passes passes, the count waits.
  l.now += 100ms;
  l.handler(entries(5, "g"), false);
  REQUIRE(l.records.size() == 607);
  CHECK(l.records[606].msg == "g4");
  // The flood let up (the bucket filled again): the count comes with the
  // next entry, and a new flood is warned of again.
  l.now += 10s;
  l.handler(entries(1, "h"), false);
  REQUIRE(l.records.size() == 609);
  CHECK(l.records[607].msg == "gcs log entries dropped");
  CHECK(l.records[607].fields["dropped"] == 50);
  CHECK(l.records[608].msg == "h0");
  l.handler(entries(600, "i"), false);
  REQUIRE(l.records.size() == 1109);
  CHECK(l.records[1107].msg == "i498");
  CHECK(l.records[1108].msg == "gcs log rate limit reached");
  // The end of the stream says what was cut since.
  l.handler({}, true);
  REQUIRE(l.records.size() == 1110);
  CHECK(l.records[1109].msg == "gcs log entries dropped");
  CHECK(l.records[1109].fields["dropped"] == 101);
}

TEST_CASE("guest log: the parser's own reports are never cut", "[log_rate][guest_log]") {
  limited l{{1, 1}};
  l.handler(entries(3) + "panic: oh no\ngoroutine 1 [running]:\n", false);
  l.handler({}, true);
  CHECK(l.messages() == std::vector<std::string>{"e0", "gcs log rate limit reached", "gcs log read",
                                                 "gcs log entries dropped", "gcs terminated"});
  CHECK(l.records[3].fields["dropped"] == 2);
  CHECK(l.records[4].fields["stderr"] == "panic: oh no\ngoroutine 1 [running]:");
}

TEST_CASE("guest log: under the rate nothing is cut or said", "[log_rate][guest_log]") {
  limited l{{1000, 10}};
  for (int i = 0; i < 50; ++i) {
    l.handler(entries(1), false);
    l.now += 10ms; // 100 a second
  }
  l.handler({}, true);
  CHECK(l.records.size() == 50);
  for (auto& r : l.records) {
    CHECK(r.msg == "e0");
  }
}
