#include "adapters/crypto/card_vault.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "adapters/crypto/encoding.hpp"
#include "adapters/crypto/random_id.hpp"

namespace psp::crypto {

namespace {

struct cipher_ctx_deleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_deleter>;

/// Encryption only fails on allocation failure or a broken OpenSSL; a PSP
/// must not store a PAN it could not encrypt, so stop.
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "psp_crypto: card_vault %s failed\n", what);
  std::abort();
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

/// Wipes a buffer that held a plaintext before it is released.
void wipe(std::string& s) {
  if (!s.empty()) {
    OPENSSL_cleanse(s.data(), s.size());
  }
}

} // namespace

card_vault::card_vault(const std::array<unsigned char, key_size>& key)
    : key_(key) {
  // nop
}

card_vault::~card_vault() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::optional<card_vault> card_vault::from_hex_key(std::string_view hex64) {
  auto raw = from_hex(hex64);
  if (!raw || raw->size() != key_size) {
    if (raw) {
      wipe(*raw);
    }
    return std::nullopt;
  }
  std::array<unsigned char, key_size> key{};
  std::memcpy(key.data(), raw->data(), key_size);
  wipe(*raw);
  card_vault result{key};
  OPENSSL_cleanse(key.data(), key.size());
  return result;
}

std::string card_vault::seal(std::string_view plaintext,
                             std::string_view associated_data) const {
  if (plaintext.size() > plaintext_size_max ||
      associated_data.size() > plaintext_size_max) {
    die("seal (input too large)");
  }
  std::string nonce = random_bytes(nonce_size);
  std::string out(nonce_size + plaintext.size() + tag_size, '\0');
  std::memcpy(out.data(), nonce.data(), nonce_size);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + nonce_size);
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr,
                         nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                          static_cast<int>(nonce_size), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(),
                         bytes_of(nonce)) != 1) {
    die("seal (init)");
  }
  if (!associated_data.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                        static_cast<int>(associated_data.size())) != 1) {
    die("seal (associated data)");
  }
  if (!plaintext.empty() &&
      (EVP_EncryptUpdate(ctx.get(), ct, &len, bytes_of(plaintext),
                         static_cast<int>(plaintext.size())) != 1 ||
       static_cast<size_t>(len) != plaintext.size())) {
    die("seal (encrypt)");
  }
  // GCM is a stream mode: finalising writes no further ciphertext.
  unsigned char* tag = ct + plaintext.size();
  if (EVP_EncryptFinal_ex(ctx.get(), tag, &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG,
                          static_cast<int>(tag_size), tag) != 1) {
    die("seal (tag)");
  }
  return base64_encode(out);
}

std::optional<std::string>
card_vault::open(std::string_view sealed,
                 std::string_view associated_data) const {
  constexpr size_t sealed_text_size_max =
      (nonce_size + plaintext_size_max + tag_size + 2) / 3 * 4;
  if (sealed.size() > sealed_text_size_max ||
      associated_data.size() > plaintext_size_max) {
    return std::nullopt;
  }
  auto raw = base64_decode(sealed);
  if (!raw || raw->size() < nonce_size + tag_size) {
    return std::nullopt;
  }
  size_t ct_size = raw->size() - nonce_size - tag_size;
  auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
  auto* ct = nonce + nonce_size;
  // OpenSSL's SET_TAG takes a non-const pointer but only reads from it.
  std::string tag = raw->substr(nonce_size + ct_size);
  std::string plaintext(ct_size, '\0');
  auto* pt = reinterpret_cast<unsigned char*>(plaintext.data());
  cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr,
                         nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                          static_cast<int>(nonce_size), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) !=
          1) {
    die("open (init)");
  }
  bool ok = true;
  if (!associated_data.empty()) {
    ok = EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(associated_data),
                           static_cast<int>(associated_data.size())) == 1;
  }
  if (ok && ct_size > 0) {
    ok = EVP_DecryptUpdate(ctx.get(), pt, &len, ct,
                           static_cast<int>(ct_size)) == 1 &&
         static_cast<size_t>(len) == ct_size;
  }
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                                 static_cast<int>(tag_size), tag.data()) == 1;
  // The tag is checked here; nothing decrypted is released before it passes.
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), pt + ct_size, &len) == 1;
  if (!ok) {
    wipe(plaintext);
    return std::nullopt;
  }
  return plaintext;
}

} // namespace psp::crypto
