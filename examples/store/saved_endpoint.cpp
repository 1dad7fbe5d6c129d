#include "saved_endpoint.hpp"

#include "examples/common/fd_write.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace store {

std::optional<saved_endpoint> load_endpoint(const std::string& path,
                                            std::string& error) {
  std::ifstream in{path};
  if (!in) {
    if (errno != ENOENT) {
      error = "cannot read " + path + ": " + std::strerror(errno);
    }
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  saved_endpoint ep;
  if (doc.is_object()) {
    ep.id = doc.value("id", "");
    ep.secret = doc.value("secret", "");
    ep.url = doc.value("url", "");
  }
  if (ep.id.empty() || ep.secret.empty() || ep.url.empty()) {
    error = path + " is not a saved webhook endpoint (id, secret, url)";
    return std::nullopt;
  }
  return ep;
}

bool save_endpoint(const std::string& path, const saved_endpoint& ep,
                   std::string& error) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  auto text = nlohmann::json{{"id", ep.id}, {"secret", ep.secret},
                             {"url", ep.url}}
                .dump()
              + "\n";
  bool ok = examples::write_all(fd, text) && ::fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot save " + path + ": "
            + std::strerror(ok ? errno : saved_errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

} // namespace store
