#include "queue/fair_queue.hpp"

#include <algorithm>

namespace integr8scode {

FairQueue::Fifo& FairQueue::FifoOf(std::string_view owner_key, bool at_front) {
  auto [it, inserted] = fifos_.try_emplace(std::string(owner_key));
  if (inserted) {
    it->second.turn = at_front ? turns_.insert(turns_.begin(), it->first)
                               : turns_.insert(turns_.end(), it->first);
  }
  return it->second;
}

void FairQueue::Push(std::string_view owner_key, std::string_view id) {
  if (Contains(id)) return;
  FifoOf(owner_key, /*at_front=*/false).ids.emplace_back(id);
  owner_of_.emplace(std::string(id), std::string(owner_key));
}

void FairQueue::PushFront(std::string_view owner_key, std::string_view id) {
  if (Contains(id)) return;
  Fifo& fifo = FifoOf(owner_key, /*at_front=*/true);
  fifo.ids.emplace_front(id);
  turns_.splice(turns_.begin(), turns_, fifo.turn);
  owner_of_.emplace(std::string(id), std::string(owner_key));
}

std::optional<FairQueue::Item> FairQueue::Pop() {
  if (turns_.empty()) return std::nullopt;
  const std::string owner = turns_.front();
  auto it = fifos_.find(owner);
  Item item{owner, std::move(it->second.ids.front())};
  it->second.ids.pop_front();
  if (it->second.ids.empty()) {
    turns_.erase(it->second.turn);
    fifos_.erase(it);
  } else {
    turns_.splice(turns_.end(), turns_, it->second.turn);
  }
  owner_of_.erase(item.id);
  return item;
}

bool FairQueue::Remove(std::string_view id) {
  auto owner_it = owner_of_.find(std::string(id));
  if (owner_it == owner_of_.end()) return false;
  auto fifo_it = fifos_.find(owner_it->second);
  auto& ids = fifo_it->second.ids;
  ids.erase(std::find(ids.begin(), ids.end(), id));
  if (ids.empty()) {
    turns_.erase(fifo_it->second.turn);
    fifos_.erase(fifo_it);
  }
  owner_of_.erase(owner_it);
  return true;
}

}  // namespace integr8scode
