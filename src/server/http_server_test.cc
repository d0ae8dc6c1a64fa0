#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace strata::server {
namespace {

using namespace std::chrono_literals;

int Connect(int port) {
  const int sock = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(sock);
    return -1;
  }
  return sock;
}

// Whether the server closed sock (a read gives end of file or an error) within `wait`.
bool ClosedByServer(int sock, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  char buffer[512];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{sock, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = recv(sock, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpLimits limits) {
    server_ = std::make_unique<HttpServer>(limits);
    server_->Get("/healthz",
                 [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    server_->Post("/echo",
                  [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "text/plain"); });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    ASSERT_TRUE(server_->RaiseBacklog());
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int k = 0; k < 3000 && !server_->is_running(); ++k) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(server_->is_running());
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpServerTest, ClientsThatDripTheirHeadersAreCutOffAndTheRestAreServed) {
  HttpLimits limits;
  limits.threads = 4;
  limits.request_deadline = 1500ms;
  Start(limits);
  // Twice as many slow clients as request threads, each sending a header line every 200 ms: well
  // inside any per-read timeout, forever.
  std::atomic<bool> stop{false};
  std::vector<int> slow;
  for (int k = 0; k < 8; ++k) {
    const int sock = Connect(port_);
    ASSERT_GE(sock, 0);
    slow.push_back(sock);
  }
  std::thread dripper([&] {
    for (const int sock : slow) send(sock, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
    while (!stop) {
      for (const int sock : slow) send(sock, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
      std::this_thread::sleep_for(200ms);
    }
  });
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(30, 0);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  int closed = 0;
  for (const int sock : slow) closed += ClosedByServer(sock, 10000ms) ? 1 : 0;
  stop = true;
  dripper.join();
  for (const int sock : slow) close(sock);
  EXPECT_EQ(closed, 8);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAndDoNotHoldTheThreads) {
  HttpLimits limits;
  limits.threads = 2;
  limits.idle = 500ms;
  Start(limits);
  std::vector<int> idle;
  for (int k = 0; k < 6; ++k) idle.push_back(Connect(port_));
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(30, 0);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  for (const int sock : idle) {
    EXPECT_TRUE(ClosedByServer(sock, 10000ms));
    close(sock);
  }
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnectionWithBodies) {
  Start(HttpLimits{});
  httplib::Client client("127.0.0.1", port_);
  client.set_keep_alive(true);
  std::string body(100000, 'x');
  for (int k = 0; k < 20; ++k) {
    body[static_cast<size_t>(k)] = 'y';
    auto res = client.Post("/echo", body, "text/plain");
    ASSERT_TRUE(res) << k;
    EXPECT_EQ(res->body, body);
    auto health = client.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->body, "ok");
  }
  // On one socket (the client above would reconnect silently): three requests, three answers, and
  // the connection still open after them.
  const int sock = Connect(port_);
  ASSERT_GE(sock, 0);
  std::string answers;
  for (int k = 0; k < 3; ++k) {
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(send(sock, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    char buffer[4096];
    size_t seen = answers.size();
    while (answers.find("\r\n\r\nok", seen == 0 ? 0 : seen) == std::string::npos) {
      const ssize_t n = recv(sock, buffer, sizeof buffer, 0);
      ASSERT_GT(n, 0) << "the server closed a kept-alive connection after " << k << " answers";
      answers.append(buffer, static_cast<size_t>(n));
    }
  }
  EXPECT_FALSE(ClosedByServer(sock, 200ms));
  close(sock);
}

}  // namespace
}  // namespace strata::server
