#pragma once

#include <cstddef>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace integr8scode {

// Execution ids waiting to run, one FIFO per owner, served round-robin across owners:
// each Pop takes the oldest id of the next owner in turn, so one owner's thousand
// submissions delay another owner's single one by at most one pick per busy owner.
// Plain data structure: not thread-safe (ExecutionQueue guards it).
class FairQueue {
 public:
  struct Item {
    std::string owner_key;
    std::string id;
  };

  void Push(std::string_view owner_key, std::string_view id);
  // Puts an item back at the head of its owner's FIFO, that owner next in turn
  // (a worker that could not start it returns it without losing its place).
  void PushFront(std::string_view owner_key, std::string_view id);
  std::optional<Item> Pop();
  // Removes a waiting id; false if it is not waiting.
  bool Remove(std::string_view id);
  bool Contains(std::string_view id) const { return owner_of_.contains(std::string(id)); }
  std::size_t Size() const { return owner_of_.size(); }
  bool Empty() const { return owner_of_.empty(); }
  std::size_t Owners() const { return turns_.size(); }

 private:
  struct Fifo {
    std::deque<std::string> ids;
    std::list<std::string>::iterator turn;  // this owner's place in turns_
  };

  Fifo& FifoOf(std::string_view owner_key, bool at_front);

  std::unordered_map<std::string, Fifo> fifos_;            // by owner key; never empty
  std::list<std::string> turns_;                           // owners in serving order
  std::unordered_map<std::string, std::string> owner_of_;  // id → owner key
};

}  // namespace integr8scode
