// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QSortFilterProxyModel>

namespace headroom::ui {

// Sorts the process models by each column's natural order (memory as a number,
// not as "1.2 GiB") and filters by the text box and the "build processes
// only" switch. In tree mode a parent stays visible when a descendant matches.
class ProcessFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
  public:
    explicit ProcessFilterProxy(QObject* parent = nullptr);

    void setFilterText(const QString& text);
    QString filterText() const { return text_; }
    void setBuildProcessesOnly(bool only);
    bool buildProcessesOnly() const { return buildOnly_; }

  protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

  private:
    QStringList words_;
    QString text_;
    bool buildOnly_ = false;
};

} // namespace headroom::ui
