// SHA-256 against the FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional") and the
// long-message vector of one million 'a'.
#include "support/sha256.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using rapa::support::Sha256;
using rapa::support::sha256_hex;

TEST_CASE("sha256: the empty message", "[sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256: abc, one block", "[sha256]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256: the 448-bit message, two blocks", "[sha256]") {
  // 56 bytes: the padding no longer fits in the first block.
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256: one million 'a' fed in odd-sized chunks", "[sha256]") {
  // Chunks of 1, 2, 3 ... 127 bytes, cycling, so that every buffer offset and block boundary is
  // crossed both from the buffer and straight from the input.
  const std::string a(1000000, 'a');
  Sha256 hash;
  std::size_t at = 0;
  for (std::size_t chunk = 1; at < a.size(); chunk = chunk % 127 + 1) {
    const std::size_t take = std::min(chunk, a.size() - at);
    hash.update(std::string_view(a).substr(at, take));
    at += take;
  }
  CHECK(hash.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Whole, in one update, the same.
  CHECK(sha256_hex(a) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: reset makes the object reusable", "[sha256]") {
  Sha256 hash;
  hash.update("something else");
  (void)hash.hex_digest();
  hash.reset();
  hash.update("a");
  hash.update("bc");
  CHECK(hash.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
