// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/DashboardSettings.h"

#include <QString>
#include <QStringList>

namespace headroom::services {

// Reads and writes the dashboard settings (an INI file through QSettings).
// A damaged file never stops the dashboard: it runs on defaults, says so, and
// keeps a copy of the bad file next to it (<file>.corrupt-<timestamp>). A file
// it cannot read is never written over.
class SettingsStore {
  public:
    explicit SettingsStore(QString filePath);

    struct Loaded {
        DashboardSettings settings;
        QStringList warnings; // sentences for the user and the log
        QString setAsidePath; // where the damaged file was copied, if it was
    };
    Loaded load();

    // Writes every setting; returns an empty string or why it failed.
    QString save(const DashboardSettings& settings);

    // The window layout (MainWindow::saveLayout), kept in the same file.
    QByteArray loadLayout() const;
    QString saveLayout(const QByteArray& layout);

    const QString& filePath() const { return filePath_; }
    bool writable() const { return writable_; }

    // ~/.config/headroom/headroom.conf on Linux, the platform's equivalent elsewhere.
    static QString defaultFilePath();

    // Lines like "interval: 1 s -> 2 s" for each setting that differs.
    static QStringList describeChanges(const DashboardSettings& before, const DashboardSettings& after);

  private:
    QString prepareWrite();

    QString filePath_;
    bool writable_ = true;
    bool replaceOnSave_ = false; // the file on disk is damaged and already copied aside
};

} // namespace headroom::services
