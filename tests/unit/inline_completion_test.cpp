// hcs::inline_completion: a completion inside the call is kept for the
// caller; one on another thread, or after the call returned, is not.
#include <thread>

#include <catch2/catch.hpp>

#include "hcs/inline_completion.hpp"

using uvm::hcs::call_result;
using uvm::hcs::inline_completion;

TEST_CASE("a completion inside the call is kept for the caller", "[inline_completion]") {
  inline_completion here;
  auto r = call_result::failure(0x80004005, "injected fault");
  CHECK(here.keep(r));
  auto kept = here.close();
  REQUIRE(kept);
  CHECK(kept->hresult == 0x80004005);
  CHECK(kept->message == "injected fault");
}

TEST_CASE("a completion after the call returned is not kept", "[inline_completion]") {
  inline_completion here;
  CHECK_FALSE(here.close());
  auto r = call_result::success("payload");
  CHECK_FALSE(here.keep(r));
  // Left to the caller's usual path, untouched.
  CHECK(r.payload == "payload");
}

TEST_CASE("a completion on another thread is not kept, even during the call",
          "[inline_completion]") {
  inline_completion here;
  bool kept = true;
  auto r = call_result::success("from the executor");
  std::thread other([&] { kept = here.keep(r); });
  other.join();
  CHECK_FALSE(kept);
  CHECK(r.payload == "from the executor");
  CHECK_FALSE(here.close());
}
