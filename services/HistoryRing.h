// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace headroom::services {

// A fixed-capacity ring: pushing onto a full ring drops the oldest element, so
// memory stays the same however long the dashboard runs. Storage grows only as
// elements arrive, so a long span costs nothing until it has been filled.
// Index 0 is the oldest.
template <typename T> class HistoryRing {
  public:
    explicit HistoryRing(std::size_t capacity = 1) { setCapacity(capacity); }

    std::size_t capacity() const { return capacity_; }
    std::size_t size() const { return storage_.size(); }
    bool empty() const { return storage_.empty(); }

    void push(const T& value)
    {
        if (storage_.size() < capacity_) {
            storage_.push_back(value);
            return;
        }
        storage_[head_] = value;
        head_ = (head_ + 1) % capacity_;
    }

    const T& operator[](std::size_t index) const { return storage_[(head_ + index) % storage_.size()]; }
    const T& back() const { return (*this)[size() - 1]; }
    const T& front() const { return (*this)[0]; }

    void clear()
    {
        storage_.clear();
        head_ = 0;
    }

    // Keeps the newest elements that fit.
    void setCapacity(std::size_t capacity)
    {
        capacity = std::max<std::size_t>(capacity, 1);
        if (capacity == capacity_)
            return;
        const std::size_t kept = std::min(size(), capacity);
        std::vector<T> ordered;
        ordered.reserve(kept);
        for (std::size_t i = size() - kept; i < size(); ++i)
            ordered.push_back((*this)[i]);
        storage_.swap(ordered);
        head_ = 0;
        capacity_ = capacity;
    }

    // First index whose key(element) >= value, for rings sorted by that key.
    template <typename Key, typename Value> std::size_t lowerBound(Key key, const Value& value) const
    {
        std::size_t low = 0;
        std::size_t high = size();
        while (low < high) {
            const std::size_t mid = (low + high) / 2;
            if (key((*this)[mid]) < value)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }

  private:
    std::vector<T> storage_;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
};

} // namespace headroom::services
