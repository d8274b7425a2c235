// Allocations the index's writer replaced while readers may still hold
// them (concurrent.h's rules): freed only by Reclaim, where none can.
#pragma once

#include <atomic>

namespace causeway {

// A list of retired allocations. The writer pushes; Reclaim frees.
class RetireList {
 public:
  RetireList() = default;
  RetireList(const RetireList&) = delete;
  RetireList& operator=(const RetireList&) = delete;
  ~RetireList() { Reclaim(); }

  template <typename T>
  void Retire(T* p) {
    Node* n = new Node{nullptr, p, [](void* q) { delete static_cast<T*>(q); }};
    n->next = head_.load(std::memory_order_relaxed);
    // Release: Reclaim, which takes the list with acquire, sees a whole node.
    while (!head_.compare_exchange_weak(n->next, n, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }
  // REQUIRES: no reader can still hold a pointer into what was retired.
  void Reclaim() {
    // Acquire: pairs with the release in Retire.
    Node* n = head_.exchange(nullptr, std::memory_order_acquire);
    while (n) {
      Node* next = n->next;
      n->del(n->p);
      delete n;
      n = next;
    }
  }

 private:
  struct Node {
    Node* next;
    void* p;
    void (*del)(void*);
  };
  std::atomic<Node*> head_{nullptr};
};

}  // namespace causeway
