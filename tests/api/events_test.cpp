// Server-Sent Events on a real server: output arrives while the program still runs,
// Last-Event-ID resumes, a finished execution answers at once, quiet streams get pings.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

struct Event {
  std::uint64_t id = 0;
  std::string name;
  std::string data;
};

// Parses the SSE events in a raw chunked HTTP answer. Chunk-size lines are dropped:
// the server writes every event inside one chunk. (No std::regex: its recursion overflows
// the stack on the long data lines of coalesced output.)
std::vector<Event> ParseEvents(const std::string& raw) {
  std::vector<Event> events;
  const std::size_t body = raw.find("\r\n\r\n");
  if (body == std::string::npos) return events;
  const std::string_view text(raw.data() + body + 4, raw.size() - body - 4);
  std::size_t at = 0;
  while ((at = text.find("id: ", at)) != std::string_view::npos) {
    const std::size_t id_end = text.find('\n', at);
    if (id_end == std::string_view::npos || !text.substr(id_end + 1).starts_with("event: ")) {
      at += 4;
      continue;
    }
    const std::size_t name_end = text.find('\n', id_end + 1);
    if (name_end == std::string_view::npos || !text.substr(name_end + 1).starts_with("data: ")) {
      at += 4;
      continue;
    }
    const std::size_t data_end = text.find("\n\n", name_end + 1);
    if (data_end == std::string_view::npos) break;
    Event event;
    const std::string_view digits = text.substr(at + 4, id_end - at - 4);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      at += 4;
      continue;
    }
    event.id = std::stoull(std::string(digits));
    event.name = std::string(text.substr(id_end + 8, name_end - id_end - 8));
    event.data = std::string(text.substr(name_end + 7, data_end - name_end - 7));
    events.push_back(std::move(event));
    at = data_end + 2;
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

  // Resume after the second event: exactly the rest comes. Replayed at once, output
  // chunks of one stream may be coalesced into one event carrying the last chunk's id, so
  // compare what the events say, not how they are cut.
  RawConnection resumed(Port());
  ASSERT_TRUE(resumed.Send(Request(id, "Last-Event-ID: " + std::to_string(all[1].id) + "\r\n")));
  resumed.ReadUntil("event: result", std::chrono::seconds(30));
  const std::vector<Event> rest = ParseEvents(resumed.Received());
  ASSERT_FALSE(rest.empty()) << resumed.Received();
  EXPECT_GT(rest.front().id, all[1].id);
  EXPECT_EQ(rest.back().id, all.back().id);
  EXPECT_EQ(rest.back().name, "result");
  for (std::size_t i = 1; i < rest.size(); ++i) EXPECT_GT(rest[i].id, rest[i - 1].id);
  // The same data in the same order (adjacent chunks of one stream joined).
  const auto joined = [&](const std::vector<Event>& events) {
    std::string text;
    std::string last_name;
    for (const Event& event : events) {
      if (event.id <= all[1].id || event.name == "result") continue;
      const std::string data = event.name == "status"
                                   ? Str(boost::json::parse(event.data).at("status"))
                                   : Str(boost::json::parse(event.data).at("data"));
      if (event.name != last_name || event.name == "status") text += "|" + event.name + ":";
      text += data;
      last_name = event.name;
    }
    return text;
  };
  EXPECT_EQ(joined(rest), joined(all)) << resumed.Received();
}

TEST_F(Events, TinyOutputChunksAreCoalesced) {
  HttpClient client(Port());
  // Thousands of writes, each flushed: without coalescing, one event each. The program
  // waits first, so the stream is live (not a replay) when the lines come.
  const int lines = 5000;
  const HttpResult submitted = Submit(client,
                                      "import sys, time\ntime.sleep(1)\nfor i in range(5000):\n"
                                      "    sys.stdout.write(f'{i}\\n')\n    sys.stdout.flush()\n");
  ASSERT_EQ(submitted.status, 202);
  const std::string id = Str(submitted.Json().at("execution_id"));
  RawConnection stream(Port());
  ASSERT_TRUE(stream.Send(Request(id)));
  stream.ReadUntil("event: result", std::chrono::seconds(60));
  const std::vector<Event> events = ParseEvents(stream.Received());
  std::string streamed;
  std::size_t output_events = 0;
  for (const Event& event : events) {
    if (event.name != "stdout") continue;
    ++output_events;
    streamed += Str(boost::json::parse(event.data).at("data"));
  }
  std::string expected;
  for (int i = 0; i < lines; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(streamed, expected);
  // The 20 ms window joins them: far fewer events than writes.
  EXPECT_LT(output_events, static_cast<std::size_t>(lines / 5)) << output_events << " events";
  std::printf("%d flushed lines arrived in %zu stdout events\n", lines, output_events);
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
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    const HttpResult submitted =
        Submit(client, "import time\nprint('x', flush=True)\ntime.sleep(0.5)");
    ASSERT_EQ(submitted.status, 202);
    ids.push_back(Str(submitted.Json().at("execution_id")));
    RawConnection stream(Port());
    ASSERT_TRUE(stream.Send(Request(ids.back())));
    stream.ReadUntil("event:", std::chrono::seconds(30));
  }  // each stream is dropped mid-run
  EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200);
  // The runs whose readers left still finish whole. Waiting for them here also keeps the
  // last run's ?wait=true from queueing behind them: its budget (timeout plus margin)
  // counts time in the queue, and 20 half-second runs on one worker per core outlasted it
  // on a busy two-core machine (a 202 instead of the result).
  for (const std::string& id : ids) {
    const boost::json::object execution = WaitForEnd(client, id);
    if (execution.empty()) continue;  // WaitForEnd has failed the test
    EXPECT_EQ(Str(execution.at("status")), "completed") << id;
    EXPECT_EQ(Str(execution.at("stdout")), "x\n") << id;
  }
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
