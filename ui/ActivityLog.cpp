// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ActivityLog.h"

#include "services/SafeDisplayText.h"
#include "ui/DashboardColors.h"

#include <QApplication>
#include <QDateTime>
#include <QLabel>
#include <QListWidget>
#include <QStyle>
#include <QVBoxLayout>

namespace headroom::ui {

ActivityLog::ActivityLog(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("activityLog"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(new QLabel(tr("<b>Activity</b>"), this));
    list_ = new QListWidget(this);
    list_->setObjectName(QStringLiteral("activityList"));
    list_->setUniformItemSizes(true);
    list_->setWordWrap(false);
    list_->setTextElideMode(Qt::ElideRight);
    list_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    layout->addWidget(list_, 1);
}

void ActivityLog::add(Severity severity, const QString& rawText, const QString& rawDetail)
{
    // Entries quote process names and build output.
    const QString text = services::safeDisplayText(rawText);
    const QString detail = services::safeDisplayLines(rawDetail);
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    switch (severity) {
    case Severity::Info:
        icon = QStyle::SP_MessageBoxInformation;
        break;
    case Severity::Success:
        icon = QStyle::SP_DialogApplyButton;
        break;
    case Severity::Warning:
        icon = QStyle::SP_MessageBoxWarning;
        break;
    case Severity::Error:
        icon = QStyle::SP_MessageBoxCritical;
        break;
    }
    const QString time = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
    auto* item = new QListWidgetItem(style()->standardIcon(icon), time + QStringLiteral("  ") + text);
    item->setData(Qt::UserRole, static_cast<int>(severity));
    item->setData(Qt::UserRole + 1, text);
    item->setToolTip(detail.isEmpty() ? text : text + QStringLiteral("\n") + detail);
    if (severity == Severity::Error)
        item->setForeground(levelColor(services::MemoryLevel::Critical, palette()));
    list_->insertItem(0, item);
    while (list_->count() > kMaxEntries)
        delete list_->takeItem(list_->count() - 1);
}

int ActivityLog::count() const
{
    return list_->count();
}

QString ActivityLog::text(int row) const
{
    const QListWidgetItem* item = list_->item(row);
    return item ? item->data(Qt::UserRole + 1).toString() : QString();
}

ActivityLog::Severity ActivityLog::severity(int row) const
{
    const QListWidgetItem* item = list_->item(row);
    return item ? static_cast<Severity>(item->data(Qt::UserRole).toInt()) : Severity::Info;
}

} // namespace headroom::ui
