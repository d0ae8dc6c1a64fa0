#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace strata::server {

namespace {

using Clock = std::chrono::steady_clock;

// Polls sock for events until `until`; false on a timeout or an error.
bool WaitUntil(int sock, short events, Clock::time_point until) {
  for (;;) {
    // Rounded up: a wait that ends early would leave the caller short of its deadline.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{sock, events, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000 * 1000)));
    if (n > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (n == 0) continue;  // loop: re-reads the clock
    if (errno != EINTR) return false;
  }
}

void AddressOf(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

// A connection's stream: buffered reads that all end at the current request's deadline, and
// writes that each wait at most write_timeout for room in the socket.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int sock, std::chrono::milliseconds write_timeout) : sock_(sock), write_timeout_(write_timeout) {}

  void set_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    late_ = false;
  }
  bool buffered() const { return at_ < end_; }
  // Whether a read of this request waited past its deadline (the library then answers 400 and
  // would go on reading the connection: it must be closed instead).
  bool late() const { return late_; }

  bool is_readable() const override { return buffered() || Wait(); }
  bool is_writable() const override { return WaitUntil(sock_, POLLOUT, Clock::now() + write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!buffered()) {
      if (!Wait()) return -1;
      const ssize_t n = Receive(buffer_.data(), buffer_.size());
      if (n <= 0) return n;
      at_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - at_);
    std::memcpy(ptr, buffer_.data() + at_, n);
    at_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    for (;;) {
      const ssize_t n = send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { AddressOf(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { AddressOf(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  bool Wait() const {
    if (WaitUntil(sock_, POLLIN, deadline_)) return true;
    late_ = Clock::now() >= deadline_;
    return false;
  }
  ssize_t Receive(char* into, size_t size) {
    for (;;) {
      const ssize_t n = recv(sock_, into, size, 0);
      if (n >= 0 || errno != EINTR) return n;
    }
  }

  int sock_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point deadline_ = Clock::now();
  mutable bool late_ = false;
  std::array<char, 16 * 1024> buffer_{};
  size_t at_ = 0;
  size_t end_ = 0;
};

// Request threads made as connections need them, up to max: a connection holds its thread while
// it is open, so a fixed few would let as many slow clients stall everyone. Threads stay until
// shutdown (an idle one costs its stack's address space, not memory); past max, connections wait.
class GrowingPool : public httplib::TaskQueue {
 public:
  explicit GrowingPool(size_t max) : max_(max) {}
  ~GrowingPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    queue_.push_back(std::move(fn));
    if (idle_ < queue_.size() && threads_.size() < max_) {
      try {
        threads_.emplace_back([this] { Work(); });
      } catch (const std::system_error&) {
        // The system will not make another thread now: the connection waits for a free one (with
        // none at all, nothing could serve it: that is fatal, as it would be for the library).
        if (threads_.empty()) throw;
      }
    }
    lock.unlock();
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ++idle_;
        ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (queue_.empty()) return;  // stopping, and nothing left to serve
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  const size_t max_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  std::vector<std::thread> threads_;         // grown under mu_; joined by shutdown()
  size_t idle_ = 0;                          // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
};

}  // namespace

HttpServer::HttpServer(HttpLimits limits) : limits_(limits) {
  const auto threads = static_cast<size_t>(std::max(1, limits_.threads));
  new_task_queue = [threads] { return new GrowingPool(threads); };
  // What the library's Keep-Alive header announces: the limits this server keeps.
  keep_alive_max_count_ = limits_.keep_alive_max;
  keep_alive_timeout_sec_ = std::max<time_t>(1, static_cast<time_t>(limits_.idle.count() / 1000));
}

bool HttpServer::RaiseBacklog() {
  const int sock = svr_sock_;
  return sock != INVALID_SOCKET && ::listen(sock, limits_.backlog) == 0;
}

// One connection: requests one after another (keep-alive), each read under its own deadline. Waits
// for the next request in short slices, so that a stopping server is noticed.
bool HttpServer::process_and_close_socket(socket_t sock) {
  const int on = 1;
  setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const std::chrono::milliseconds write_timeout(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
  DeadlineStream stream(sock, write_timeout);
  bool ok = false;
  for (size_t served = 0; served < limits_.keep_alive_max; ++served) {
    const auto start = Clock::now();
    const auto idle_until = start + std::min(limits_.idle, limits_.request_deadline);
    bool ready = stream.buffered();
    while (!ready && svr_sock_ != INVALID_SOCKET && Clock::now() < idle_until) {
      ready = WaitUntil(sock, POLLIN, std::min(idle_until, Clock::now() + std::chrono::milliseconds(250)));
    }
    if (!ready || svr_sock_ == INVALID_SOCKET) break;
    stream.set_deadline(start + limits_.request_deadline);
    bool closed = false;
    ok = process_request(stream, served + 1 == limits_.keep_alive_max, closed, nullptr);
    if (!ok || closed || stream.late()) break;
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace strata::server
