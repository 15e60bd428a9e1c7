// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCache>
#include <QStaticText>
#include <QStyledItemDelegate>

namespace headroom::ui {

// Paints cells like QStyledItemDelegate but keeps each cell's laid-out text
// (QStaticText) between repaints. A process table repaints every second while
// most of its cells read the same as before; laying their text out again each
// time was most of the dashboard's CPU time.
class CachedTextDelegate : public QStyledItemDelegate {
    Q_OBJECT
  public:
    explicit CachedTextDelegate(QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;

    int cachedTexts() const { return cache_.count(); }
    // A few screens of cells; older texts are dropped first.
    static constexpr int kMaxCachedTexts = 1500;

  private:
    mutable QCache<QString, QStaticText> cache_;
};

} // namespace headroom::ui
