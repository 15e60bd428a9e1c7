// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "services/PoolWatcher.h"
#include "services/SnapshotPtr.h"

#include <QWidget>

#include <memory>
#include <vector>

class QFrame;
class QLabel;
class QPushButton;
class QTreeView;

namespace headroom::ui {

class BuildsModel;
class StopBuildsDialog;

// Every build tree running now, the role totals, the job pool over every
// build, and a warning with a one-click fix when two builds fight over one
// workspace.
class BuildsPanel : public QWidget {
    Q_OBJECT
  public:
    explicit BuildsPanel(QWidget* parent = nullptr);

    void setSnapshot(const services::SnapshotPtr& snapshot);
    // The job pool as a PoolWatcher last read it.
    void setPool(const services::PoolView& pool);
    // Whose builds the extra-builds confirmation offers, and which process
    // (with its ancestors) it must never offer: the dashboard itself.
    void setIdentity(std::uint32_t uid, Pid selfPid);
    void setGraceSeconds(double seconds) { graceSeconds_ = seconds; }
    // A remote machine's builds: shown, never acted on (their roots are
    // synthetic and name no process here). Nothing stops, nothing selects a
    // process; the pool line shows `poolText` (empty: hidden).
    void setReadOnly(bool readOnly, const QString& poolText = {});
    bool isReadOnly() const { return readOnly_; }

    // The confirmation "Stop the extra builds" opens: the extra builds ticked,
    // the kept one shown; emits stopBuildsRequested on accept.
    StopBuildsDialog* openStopExtraDialog();

    BuildsModel* model() const { return model_; }
    QTreeView* view() const { return view_; }
    QPushButton* stopExtraButton() const { return stopExtra_; }
    QString roleTotalsText() const;
    QLabel* poolLine() const { return pool_; }
    bool duplicateWarningShown() const;

  signals:
    // The user asked to stop these build roots (each with its tree).
    void stopBuildsRequested(const std::vector<headroom::ProcessKey>& roots, const QString& description);
    void buildActivated(const headroom::ProcessKey& root);

  private:
    services::SnapshotPtr snapshot_;
    BuildsModel* model_ = nullptr;
    QTreeView* view_ = nullptr;
    QLabel* totals_ = nullptr;
    QLabel* pool_ = nullptr;
    QLabel* empty_ = nullptr;
    QFrame* warning_ = nullptr;
    QLabel* warningText_ = nullptr;
    QPushButton* stopExtra_ = nullptr;
    std::vector<ProcessKey> extra_;
    std::uint32_t uid_ = 0;
    Pid selfPid_ = 0;
    double graceSeconds_ = 3.0;
    bool readOnly_ = false;
    std::shared_ptr<const services::PoolView> localPool_;
};

} // namespace headroom::ui
