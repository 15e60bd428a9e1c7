// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QListWidget;

namespace headroom::ui {

// The message area: what was done and what went wrong, newest on top, kept to
// a bounded number of lines.
class ActivityLog : public QWidget {
    Q_OBJECT
  public:
    enum class Severity { Info, Success, Warning, Error };

    explicit ActivityLog(QWidget* parent = nullptr);

    void add(Severity severity, const QString& text, const QString& detail = {});
    int count() const;
    QString text(int row) const; // row 0 is the newest
    Severity severity(int row) const;
    QListWidget* list() const { return list_; }

    static constexpr int kMaxEntries = 300;

  private:
    QListWidget* list_ = nullptr;
};

} // namespace headroom::ui
