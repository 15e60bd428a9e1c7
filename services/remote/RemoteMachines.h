// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/MachineMetrics.h"
#include "services/remote/CredentialStore.h"
#include "services/remote/MachineEntry.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <memory>
#include <vector>

class QThread;

namespace headroom::services {

using MachineViewPtr = std::shared_ptr<const headroom::MachineView>;
// Oldest first; see machineHistoryFromSeries.
using MachineHistoryPtr = std::shared_ptr<const std::vector<headroom::Snapshot>>;

enum class MachineReach { Connecting, Up, Unreachable };

struct MachineState {
    QString id;
    MachineReach reach = MachineReach::Connecting;
    QString error;          // Unreachable: what went wrong, in words ("buildbox:9464 refused the connection")
    qint64 lastSeenMs = 0;  // wall clock of the last good reading; 0: never
    int retryInSeconds = 0; // Unreachable: when it is tried again (backoff, 2 s doubling to 60 s)
};

// Polls remote machines on a worker thread of its own (QNetworkAccessManager
// there): every machine's instant reading each interval, for the tray and
// the switcher, and the shown machine's history (Prometheus range queries
// over the span; for an exporter, the readings it has kept). The GUI thread
// only receives signals; nothing here ever blocks it. Every request has a
// timeout and a size limit; TLS and basic auth (password from the
// CredentialStore) are supported.
class RemoteMachines : public QObject {
    Q_OBJECT
  public:
    explicit RemoteMachines(std::shared_ptr<CredentialStore> credentials, QObject* parent = nullptr);
    ~RemoteMachines() override;

    void setMachines(const MachineList& machines);
    // The machine the window shows (empty: this one); its history is fetched
    // at once and after every change of span.
    void setShown(const QString& id);
    void setHistorySpan(double seconds);
    void setInterval(double seconds); // default 5 s, clamped to 1..300
    // Per request; default 10 s.
    void setTimeout(double seconds);

    MachineState state(const QString& id) const;

  signals:
    void viewReady(const QString& id, const headroom::services::MachineViewPtr& view);
    void historyReady(const QString& id, const headroom::services::MachineHistoryPtr& history);
    void stateChanged(const headroom::services::MachineState& state);

  private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace headroom::services

Q_DECLARE_METATYPE(headroom::services::MachineViewPtr)
Q_DECLARE_METATYPE(headroom::services::MachineHistoryPtr)
Q_DECLARE_METATYPE(headroom::services::MachineState)
