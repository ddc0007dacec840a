// Server-Sent Events on a real server: output arrives while the program still runs,
// Last-Event-ID resumes, a finished execution answers at once, quiet streams get pings.
#include <gtest/gtest.h>

#include <regex>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

struct Event {
  std::uint64_t id = 0;
  std::string name;
  std::string data;
};

// Parses the SSE events in a raw chunked HTTP answer. Chunk-size lines are dropped:
// the server writes every event inside one chunk.
std::vector<Event> ParseEvents(const std::string& raw) {
  std::vector<Event> events;
  const std::size_t body = raw.find("\r\n\r\n");
  if (body == std::string::npos) return events;
  static const std::regex kEvent("id: (\\d+)\nevent: ([a-z]+)\ndata: ([^\n]*)\n\n");
  const std::string text = raw.substr(body + 4);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kEvent);
       it != std::sregex_iterator(); ++it) {
    events.push_back({std::stoull((*it)[1]), (*it)[2], (*it)[3]});
  }
  return events;
}

class Events : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer({{"server.sse_ping_interval", "200ms"}}); }
  static void TearDownTestSuite() { StopServer(); }

  static std::string Request(const std::string& id, const std::string& extra_headers = {}) {
    return "GET /api/v1/executions/" + id +
           "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + extra_headers + "\r\n";
  }
};

TEST_F(Events, FirstLineArrivesBeforeTheProgramEnds) {
  HttpClient client(Port());
  // The program cannot hear the test, so it sleeps long enough between its lines that
  // any buffering on the way would be plain to see.
  const HttpResult submitted = Submit(
      client, "import time\nprint('first line', flush=True)\ntime.sleep(3)\nprint('second line')");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));

  RawConnection stream(Port());
  ASSERT_TRUE(stream.Send(Request(id)));
  const std::string head = stream.ReadUntil("first line", std::chrono::seconds(30));
  ASSERT_NE(head.find("first line"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  // The first line is here; the second cannot be, and the execution is still running.
  EXPECT_EQ(head.find("second line"), std::string::npos) << head;
  EXPECT_EQ(Str(client.Get("/api/v1/executions/" + id).Json().at("status")), "running");

  stream.ReadUntil("event: result", std::chrono::seconds(30));
  stream.ReadUntil("0\r\n\r\n", std::chrono::seconds(10));
  const std::vector<Event> events = ParseEvents(stream.Received());
  ASSERT_FALSE(events.empty()) << stream.Received();
  EXPECT_EQ(events.back().name, "result");
  const boost::json::value result = boost::json::parse(events.back().data);
  EXPECT_EQ(Str(result.at("status")), "completed");
  EXPECT_EQ(Str(result.at("stdout")), "first line\nsecond line\n");
  std::string streamed;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(events[i].id, events[i - 1].id) << "ids must increase";
    }
    if (events[i].name == "stdout") streamed += Str(boost::json::parse(events[i].data).at("data"));
  }
  EXPECT_EQ(streamed, "first line\nsecond line\n");
  // The server closes after the result.
  stream.ReadSome(std::chrono::seconds(10));
  EXPECT_TRUE(stream.Closed());
}

TEST_F(Events, LastEventIdResumesAfterThatEvent) {
  HttpClient client(Port());
  const HttpResult submitted = Submit(
      client,
      "import time\nfor i in range(3):\n    print(f'line {i}', flush=True)\n    time.sleep(0.3)\n");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));
  RawConnection first(Port());
  ASSERT_TRUE(first.Send(Request(id)));
  first.ReadUntil("event: result", std::chrono::seconds(30));
  const std::vector<Event> all = ParseEvents(first.Received());
  ASSERT_GE(all.size(), 4u) << first.Received();

  // Resume after the second event: exactly the rest comes, the same ids and data.
  RawConnection resumed(Port());
  ASSERT_TRUE(resumed.Send(Request(id, "Last-Event-ID: " + std::to_string(all[1].id) + "\r\n")));
  resumed.ReadUntil("event: result", std::chrono::seconds(30));
  const std::vector<Event> rest = ParseEvents(resumed.Received());
  ASSERT_EQ(rest.size(), all.size() - 2) << resumed.Received();
  for (std::size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].id, all[i + 2].id);
    EXPECT_EQ(rest[i].name, all[i + 2].name);
    if (rest[i].name != "result") {
      EXPECT_EQ(rest[i].data, all[i + 2].data);
    }
  }
}

TEST_F(Events, FinishedExecutionAnswersWithTheResultAtOnce) {
  HttpClient client(Port());
  const HttpResult done = Submit(client, "print('done')", {}, "?wait=true");
  ASSERT_EQ(done.status, 200);
  const std::string id = Str(done.Json().at("execution_id"));
  RawConnection stream(Port());
  ASSERT_TRUE(stream.Send(Request(id)));
  stream.ReadUntil("event: result", std::chrono::seconds(30));
  stream.ReadUntil("0\r\n\r\n", std::chrono::seconds(10));
  const std::vector<Event> events = ParseEvents(stream.Received());
  ASSERT_FALSE(events.empty()) << stream.Received();
  EXPECT_EQ(events.back().name, "result");
  EXPECT_EQ(Str(boost::json::parse(events.back().data).at("stdout")), "done\n");
}

TEST_F(Events, QuietStreamsGetPingComments) {
  HttpClient client(Port());
  const HttpResult submitted = Submit(client, "import time\ntime.sleep(2)\nprint('late')");
  ASSERT_EQ(submitted.status, 202);
  RawConnection stream(Port());
  ASSERT_TRUE(stream.Send(Request(Str(submitted.Json().at("execution_id")))));
  const std::string text = stream.ReadUntil(": ping\n\n", std::chrono::seconds(30));
  EXPECT_NE(text.find(": ping\n\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("late"), std::string::npos);
}

TEST_F(Events, UnknownExecutionIs404BeforeAnyStream) {
  RawConnection stream(Port());
  ASSERT_TRUE(stream.Send(Request("00000000-0000-4000-8000-000000000000")));
  const std::string text = stream.ReadUntil("\r\n\r\n", std::chrono::seconds(10));
  EXPECT_TRUE(text.starts_with("HTTP/1.1 404")) << text;
}

TEST_F(Events, AClientThatLeavesEarlyCostsNothing) {
  HttpClient client(Port());
  for (int i = 0; i < 20; ++i) {
    const HttpResult submitted =
        Submit(client, "import time\nprint('x', flush=True)\ntime.sleep(0.5)");
    ASSERT_EQ(submitted.status, 202);
    RawConnection stream(Port());
    ASSERT_TRUE(stream.Send(Request(Str(submitted.Json().at("execution_id")))));
    stream.ReadUntil("event:", std::chrono::seconds(30));
  }  // each stream is dropped mid-run
  EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200);
  const HttpResult run = Submit(client, "print('after')", {}, "?wait=true");
  ASSERT_EQ(run.status, 200) << run.Describe();
  EXPECT_EQ(Str(run.Json().at("stdout")), "after\n");
}

TEST_F(Events, AReaderThatStopsReadingHoldsUpNoWorker) {
  HttpClient client(Port());
  // Six MiB of output, far more than a stream buffers for one client.
  const HttpResult submitted = client.PostJson(
      "/api/v1/execute",
      boost::json::object{{"script",
                           "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(6 * 1024):\n"
                           "    sys.stdout.write(line)\n"},
                          {"lang", "python"},
                          {"lang_version", "3.11"},
                          {"limits", {{"output_bytes", 8 << 20}}}});
  ASSERT_EQ(submitted.status, 202) << submitted.Describe();
  const std::string id = Str(submitted.Json().at("execution_id"));
  RawConnection stalled(Port(), 4096);
  ASSERT_TRUE(stalled.Send(Request(id)));
  // Never read from `stalled`. The run must still end, and the server keep answering.
  const boost::json::object done = WaitForEnd(client, id);
  EXPECT_EQ(Str(done.at("status")), "completed");
  EXPECT_EQ(Str(done.at("stdout")).size(), 6u << 20);
  // The stream was cut off at its bound rather than buffering everything for it.
  EXPECT_NE(Server().Log().find("event stream: client too slow"), std::string::npos);
  const HttpResult other = Submit(client, "print('meanwhile')", {}, "?wait=true");
  ASSERT_EQ(other.status, 200) << other.Describe();
  EXPECT_EQ(Str(other.Json().at("stdout")), "meanwhile\n");
}

}  // namespace
}  // namespace integr8scode::testing
