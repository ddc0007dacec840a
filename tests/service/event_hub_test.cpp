#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/memory_event_hub.hpp"

namespace integr8scode {
namespace {

using Kind = ExecutionEvent::Kind;

// A clock the test moves by hand.
struct ManualClock {
  std::atomic<std::int64_t> now{1'000'000};
  std::function<std::int64_t()> Fn() {
    return [this] { return now.load(); };
  }
};

// Collects what a subscriber received; thread-safe.
struct Recorder {
  std::mutex mu;
  std::vector<ExecutionEvent> events;
  EventCallback Callback() {
    return [this](const ExecutionEvent& event) {
      std::lock_guard lock(mu);
      events.push_back(event);
    };
  }
  std::vector<std::uint64_t> Seqs() {
    std::lock_guard lock(mu);
    std::vector<std::uint64_t> seqs;
    for (const auto& e : events) seqs.push_back(e.seq);
    return seqs;
  }
  std::size_t Size() {
    std::lock_guard lock(mu);
    return events.size();
  }
};

class EventHubTest : public ::testing::Test {
 protected:
  EventOptions options_;
  ManualClock clock_;
  std::unique_ptr<MemoryEventHub> hub_;

  void SetUp() override { Make(); }
  void Make() { hub_ = std::make_unique<MemoryEventHub>(options_, clock_.Fn()); }
};

TEST_F(EventHubTest, NothingBufferedMeansNoSubscription) {
  Recorder recorder;
  EXPECT_EQ(hub_->Subscribe("missing", 0, recorder.Callback()), nullptr);
  EXPECT_EQ(recorder.Size(), 0u);
}

TEST_F(EventHubTest, ReplaysThenDeliversLiveInOrderWithSequenceNumbers) {
  hub_->Publish("e1", Kind::kStatus, "queued");
  hub_->Publish("e1", Kind::kStatus, "running");
  hub_->Publish("e1", Kind::kStdout, "hello\n");
  Recorder recorder;
  auto subscription = hub_->Subscribe("e1", 0, recorder.Callback());
  ASSERT_NE(subscription, nullptr);
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{1, 2, 3}));
  hub_->Publish("e1", Kind::kStderr, "oops\n");
  hub_->Publish("e1", Kind::kResult, "");
  ASSERT_EQ(recorder.Size(), 5u);
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(recorder.events[0].data, "queued");
  EXPECT_EQ(recorder.events[2].kind, Kind::kStdout);
  EXPECT_EQ(recorder.events[2].data, "hello\n");
  EXPECT_EQ(recorder.events[3].kind, Kind::kStderr);
  EXPECT_EQ(recorder.events[4].kind, Kind::kResult);
}

TEST_F(EventHubTest, ResumesAfterLastEventId) {
  for (int i = 0; i < 5; ++i) hub_->Publish("e1", Kind::kStdout, std::to_string(i));
  Recorder recorder;
  auto subscription = hub_->Subscribe("e1", 3, recorder.Callback());
  ASSERT_NE(subscription, nullptr);
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(recorder.events[0].data, "3");
}

TEST_F(EventHubTest, ExecutionsAreSeparateStreams) {
  hub_->Publish("a", Kind::kStdout, "a1");
  hub_->Publish("b", Kind::kStdout, "b1");
  hub_->Publish("a", Kind::kStdout, "a2");
  Recorder a;
  Recorder b;
  auto sa = hub_->Subscribe("a", 0, a.Callback());
  auto sb = hub_->Subscribe("b", 0, b.Callback());
  EXPECT_EQ(a.Seqs(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(b.Seqs(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(b.events[0].data, "b1");
}

TEST_F(EventHubTest, NoCallbackAfterUnsubscribe) {
  hub_->Publish("e1", Kind::kStatus, "running");
  Recorder recorder;
  auto subscription = hub_->Subscribe("e1", 0, recorder.Callback());
  ASSERT_EQ(recorder.Size(), 1u);
  subscription.reset();
  hub_->Publish("e1", Kind::kStdout, "after");
  hub_->Publish("e1", Kind::kResult, "");
  EXPECT_EQ(recorder.Size(), 1u);
}

TEST_F(EventHubTest, CallbackMayUnsubscribeItself) {
  hub_->Publish("e1", Kind::kStatus, "running");
  std::unique_ptr<Subscription> subscription;
  int calls = 0;
  subscription = hub_->Subscribe("e1", 0, [&](const ExecutionEvent& event) {
    ++calls;
    if (event.kind == Kind::kStdout) subscription.reset();  // would deadlock if waited on
  });
  hub_->Publish("e1", Kind::kStdout, "x");
  EXPECT_EQ(subscription, nullptr);
  hub_->Publish("e1", Kind::kStdout, "y");
  EXPECT_EQ(calls, 2);
}

TEST_F(EventHubTest, CallbackMayPublishToTheSameExecution) {
  Recorder recorder;
  hub_->Publish("e1", Kind::kStatus, "running");
  auto echo = hub_->Subscribe("e1", 0, [&](const ExecutionEvent& event) {
    if (event.kind == Kind::kStdout && event.data == "ping") {
      hub_->Publish("e1", Kind::kStdout, "pong");
    }
  });
  auto subscription = hub_->Subscribe("e1", 0, recorder.Callback());
  hub_->Publish("e1", Kind::kStdout, "ping");
  ASSERT_EQ(recorder.Size(), 3u);
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(recorder.events[1].data, "ping");
  EXPECT_EQ(recorder.events[2].data, "pong");
}

TEST_F(EventHubTest, CallbackMaySubscribeToAnotherExecution) {
  hub_->Publish("a", Kind::kStatus, "running");
  hub_->Publish("b", Kind::kStatus, "running");
  Recorder inner;
  std::unique_ptr<Subscription> nested;
  auto outer = hub_->Subscribe("a", 0, [&](const ExecutionEvent&) {
    if (!nested) nested = hub_->Subscribe("b", 0, inner.Callback());
  });
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(inner.Size(), 1u);
}

TEST_F(EventHubTest, BufferIsDroppedAWhileAfterTheResult) {
  options_.keep_after_result = std::chrono::seconds(60);
  Make();
  hub_->Publish("e1", Kind::kStatus, "running");
  hub_->Publish("e1", Kind::kResult, "");
  clock_.now += 59'999;
  Recorder recorder;
  auto late = hub_->Subscribe("e1", 0, recorder.Callback());
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{1, 2}));
  clock_.now += 1;
  EXPECT_EQ(hub_->Subscribe("e1", 0, recorder.Callback()), nullptr);
  EXPECT_EQ(hub_->BufferCount(), 0u);
  EXPECT_EQ(hub_->BufferedBytes(), 0u);
}

TEST_F(EventHubTest, RunningExecutionsAreNeverDropped) {
  hub_->Publish("running", Kind::kStatus, "running");
  clock_.now += 24 * 3600 * 1000;
  hub_->Sweep();
  Recorder recorder;
  EXPECT_NE(hub_->Subscribe("running", 0, recorder.Callback()), nullptr);
}

TEST_F(EventHubTest, OutputOverTheCapIsDeliveredLiveButNotKept) {
  options_.max_buffered_bytes_per_execution = 10;
  Make();
  hub_->Publish("e1", Kind::kStatus, "running");
  Recorder live;
  auto subscription = hub_->Subscribe("e1", 0, live.Callback());
  hub_->Publish("e1", Kind::kStdout, "12345678");
  hub_->Publish("e1", Kind::kStdout, "abcdefgh");  // would pass the cap: live only
  hub_->Publish("e1", Kind::kStatus, "completed");
  hub_->Publish("e1", Kind::kResult, "");
  EXPECT_EQ(live.Seqs(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(hub_->BufferedBytes(), 8u);

  Recorder late;
  auto replay = hub_->Subscribe("e1", 0, late.Callback());
  EXPECT_EQ(late.Seqs(), (std::vector<std::uint64_t>{1, 2, 4, 5}));
}

TEST_F(EventHubTest, TotalCapBoundsAllExecutions) {
  options_.max_buffered_bytes_total = 100;
  Make();
  const std::string chunk(30, 'x');
  for (int i = 0; i < 10; ++i) hub_->Publish("e" + std::to_string(i), Kind::kStdout, chunk);
  EXPECT_LE(hub_->BufferedBytes(), 100u);
  EXPECT_EQ(hub_->BufferCount(), 10u);
}

TEST_F(EventHubTest, SubscribeOrOpenWaitsForTheFirstEvent) {
  Recorder recorder;
  auto subscription = hub_->SubscribeOrOpen("later", 0, recorder.Callback());
  ASSERT_NE(subscription, nullptr);
  EXPECT_EQ(recorder.Size(), 0u);
  hub_->Publish("later", Kind::kStatus, "running");
  EXPECT_EQ(recorder.Seqs(), (std::vector<std::uint64_t>{1}));
}

TEST_F(EventHubTest, SubscriptionMayOutliveTheHub) {
  hub_->Publish("e1", Kind::kStatus, "running");
  Recorder recorder;
  auto subscription = hub_->Subscribe("e1", 0, recorder.Callback());
  hub_.reset();
  subscription.reset();  // must not touch freed memory (checked under ASan)
  EXPECT_EQ(recorder.Size(), 1u);
}

// Unsubscribing from another thread waits for a callback in progress: when the
// destructor returns, the callback has returned too.
TEST_F(EventHubTest, UnsubscribeWaitsForACallbackInProgress) {
  hub_->Publish("e1", Kind::kStatus, "running");
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> callback_returned{false};
  auto subscription = hub_->Subscribe("e1", 1, [&](const ExecutionEvent&) {
    entered.set_value();
    released.wait();
    callback_returned = true;
  });
  std::thread publisher([&] { hub_->Publish("e1", Kind::kStdout, "x"); });
  entered.get_future().wait();
  std::thread unsubscriber([&] {
    subscription.reset();
    EXPECT_TRUE(callback_returned.load());
  });
  release.set_value();
  unsubscriber.join();
  publisher.join();
  EXPECT_TRUE(callback_returned.load());
}

TEST_F(EventHubTest, ConcurrentPublishersAndSubscribersSeeEveryEventInOrder) {
  constexpr int kExecutions = 4;
  constexpr int kEvents = 500;
  std::vector<Recorder> recorders(kExecutions);
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int e = 0; e < kExecutions; ++e) {
    subscriptions.push_back(
        hub_->SubscribeOrOpen("e" + std::to_string(e), 0, recorders[e].Callback()));
  }
  std::vector<std::thread> threads;
  for (int e = 0; e < kExecutions; ++e) {
    threads.emplace_back([&, e] {
      for (int i = 0; i < kEvents; ++i) {
        hub_->Publish("e" + std::to_string(e), Kind::kStdout, std::to_string(i));
      }
    });
  }
  // Late subscribers joining while the publishers run must see the same sequence.
  std::vector<Recorder> late(kExecutions);
  std::vector<std::unique_ptr<Subscription>> late_subscriptions;
  for (int e = 0; e < kExecutions; ++e) {
    late_subscriptions.push_back(
        hub_->SubscribeOrOpen("e" + std::to_string(e), 0, late[e].Callback()));
  }
  for (auto& t : threads) t.join();
  std::vector<std::uint64_t> expected;
  for (int i = 1; i <= kEvents; ++i) expected.push_back(static_cast<std::uint64_t>(i));
  for (int e = 0; e < kExecutions; ++e) {
    EXPECT_EQ(recorders[e].Seqs(), expected);
    EXPECT_EQ(late[e].Seqs(), expected);
  }
}

}  // namespace
}  // namespace integr8scode
