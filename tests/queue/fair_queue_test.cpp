#include "queue/fair_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace integr8scode {
namespace {

std::vector<std::string> PopAll(FairQueue& queue) {
  std::vector<std::string> ids;
  while (auto item = queue.Pop()) ids.push_back(item->id);
  return ids;
}

TEST(FairQueueTest, OneOwnerIsFifo) {
  FairQueue queue;
  queue.Push("user:1", "a");
  queue.Push("user:1", "b");
  queue.Push("user:1", "c");
  EXPECT_EQ(PopAll(queue), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(queue.Empty());
}

TEST(FairQueueTest, ThousandFromOneOwnerDoNotStarveAnother) {
  FairQueue queue;
  for (int i = 0; i < 1000; ++i) queue.Push("user:A", "a" + std::to_string(i));
  queue.Push("user:B", "b0");
  ASSERT_EQ(queue.Size(), 1001u);
  auto first = queue.Pop();
  auto second = queue.Pop();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->id, "a0");
  EXPECT_EQ(second->id, "b0");
  EXPECT_EQ(second->owner_key, "user:B");
  EXPECT_EQ(queue.Size(), 999u);
}

TEST(FairQueueTest, RoundRobinAcrossOwnersKeepsEachOwnersOrder) {
  FairQueue queue;
  queue.Push("A", "a1");
  queue.Push("A", "a2");
  queue.Push("A", "a3");
  queue.Push("B", "b1");
  queue.Push("C", "c1");
  queue.Push("C", "c2");
  EXPECT_EQ(PopAll(queue), (std::vector<std::string>{"a1", "b1", "c1", "a2", "c2", "a3"}));
}

TEST(FairQueueTest, AnOwnerComingBackWaitsForItsTurn) {
  FairQueue queue;
  queue.Push("A", "a1");
  queue.Push("B", "b1");
  queue.Push("B", "b2");
  ASSERT_EQ(queue.Pop()->id, "a1");
  queue.Push("A", "a2");  // A's FIFO was emptied: it rejoins behind B
  EXPECT_EQ(PopAll(queue), (std::vector<std::string>{"b1", "a2", "b2"}));
}

TEST(FairQueueTest, RemoveTakesAWaitingIdOut) {
  FairQueue queue;
  queue.Push("A", "a1");
  queue.Push("A", "a2");
  queue.Push("B", "b1");
  EXPECT_TRUE(queue.Remove("a1"));
  EXPECT_FALSE(queue.Remove("a1"));
  EXPECT_FALSE(queue.Remove("nope"));
  EXPECT_TRUE(queue.Remove("b1"));
  EXPECT_EQ(queue.Owners(), 1u);
  EXPECT_FALSE(queue.Contains("b1"));
  EXPECT_EQ(PopAll(queue), (std::vector<std::string>{"a2"}));
}

TEST(FairQueueTest, PushFrontReturnsAnItemToTheHeadOfTheLine) {
  FairQueue queue;
  queue.Push("A", "a1");
  queue.Push("B", "b1");
  queue.Push("A", "a2");
  auto item = queue.Pop();
  ASSERT_EQ(item->id, "a1");
  queue.PushFront(item->owner_key, item->id);
  EXPECT_EQ(PopAll(queue), (std::vector<std::string>{"a1", "b1", "a2"}));
}

TEST(FairQueueTest, DuplicateIdsAreIgnored) {
  FairQueue queue;
  queue.Push("A", "x");
  queue.Push("B", "x");
  EXPECT_EQ(queue.Size(), 1u);
  EXPECT_EQ(queue.Pop()->owner_key, "A");
  EXPECT_FALSE(queue.Pop());
}

}  // namespace
}  // namespace integr8scode
