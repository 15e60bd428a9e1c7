#pragma once

// The build launcher: project and target, preset with its exact commands, the
// pre-build checks and what to do when one fails, the running build (output,
// progress, lock, memory), the diagnosis with the next rung of the ladder,
// and the project's history. It binds to a LauncherController and never
// touches the operating system itself.

#include "services/launcher/LauncherController.h"

#include <QWidget>

class QComboBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTabWidget;
class QToolButton;

namespace headroom::ui {

class LauncherPanel : public QWidget {
    Q_OBJECT

  public:
    explicit LauncherPanel(services::LauncherController* controller, QWidget* parent = nullptr);

    // The request as the form says now.
    BuildRequest request() const;
    BuildPreset preset() const;
    void setPreset(BuildPreset preset);
    void setProject(const QString& dir);
    QStringList recentProjects() const { return recent_; }
    void setRecentProjects(const QStringList& recent);

    // For tests and the window: the widgets a person looks at.
    QPlainTextEdit* log() const { return log_; }
    QPlainTextEdit* commandPreview() const { return preview_; }
    QLabel* diagnosisLabel() const { return diagnosis_; }
    QLabel* checksLabel() const { return checks_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* stopButton() const { return stop_; }
    QPushButton* nextButton() const { return next_; }
    QPushButton* pauseTestsButton() const { return pauseTests_; }
    QPushButton* stopOtherBuildButton() const { return stopOther_; }
    QProgressBar* progressBar() const { return progress_; }
    QComboBox* profileBox() const { return profile_; }
    QComboBox* targetNameBox() const { return targetName_; }
    QComboBox* targetKindBox() const { return targetKind_; }
    QComboBox* presetBox() const { return preset_; }
    QLineEdit* featuresEdit() const { return features_; }
    QLineEdit* extraArgsEdit() const { return extraArgs_; }
    QPushButton* waitButton() const { return wait_; }
    // The job pool of the running (or last) build: the box, its chart.
    QGroupBox* poolBox() const { return poolBox_; }
    class PoolChart* poolChart() const { return poolChart_; }

  public slots:
    void startRequested(); // the Start button
    // Fills the form with the build started last and starts it, with the
    // usual checks (from the tray menu). False when there is none.
    bool startLast();
    void refreshPreview();

  signals:
    void recentProjectsChanged(const QStringList& recent);
    // A passing line for the window's status bar: what was just read, done or refused.
    void status(const QString& text);

  private:
    void buildForm();
    void fillPresets();
    void fillFromWorkspace();
    void showChecks(const std::vector<BuildCheck>& checks, bool offerChoices);
    void showResult(const services::BuildRunResult& result);
    // The pool as the run's status says: figures, what is held back, the chart.
    // After the end (`ended`) it says what the build reached instead of what runs.
    void showPool(const PoolStatus& pool, bool ended = false);
    void clearPool();
    // The project's own last preset, else Adaptive.
    void applyProjectPreset(const QString& dir);
    void refreshHistory();
    void updateButtons();
    void appendLog(const QString& text);
    void chooseFreeMemory();
    void rememberProject(const QString& dir);
    void startWith(services::LauncherController::StartMode mode);
    void applyLast(const services::LauncherController::LastBuild& last);
    // Fills package, target, features, profile and arguments from a request.
    void applyForm(const BuildRequest& form);
    // The form with the profile the person chose (not the one the preset forces).
    BuildRequest formToRemember() const;
    // Adds the features the chosen bin or example requires to the features field.
    void addRequiredFeatures();
    void syncFeatureMenu();
    // Shows in the profile field the profile the preset will build.
    void applyPresetProfile();
    std::optional<services::LauncherController::LastBuild> pendingLast_;

    services::LauncherController* controller_;
    QStringList recent_;
    std::optional<BuildPreset> suggested_;
    std::optional<unsigned> suggestedJobs_;
    // The -j the last diagnosis suggested, taken with "Try ..."; any other
    // choice of preset drops it.
    std::optional<unsigned> jobsAsked_;
    bool errorMarked_ = false;
    int logLines_ = 0;
    // Cargo's last "Building [..] N/M" of the running build.
    unsigned lastDone_ = 0;
    unsigned lastTotal_ = 0;
    // The profile the person picked; empty means the preset's own.
    QString chosenProfile_;
    // The project whose form the widgets hold.
    QString formDir_;
    services::LauncherController::StartMode waitMode_ =
        services::LauncherController::StartMode::WaitForMemory;

    QComboBox* project_ = nullptr;
    QToolButton* browse_ = nullptr;
    QComboBox* package_ = nullptr;
    QComboBox* targetKind_ = nullptr;
    QComboBox* targetName_ = nullptr;
    QLineEdit* features_ = nullptr;
    QToolButton* featureMenu_ = nullptr;
    QComboBox* profile_ = nullptr;
    QLineEdit* extraArgs_ = nullptr;
    QLineEdit* thenRun_ = nullptr;
    QComboBox* preset_ = nullptr;
    QLabel* presetNote_ = nullptr;
    QPlainTextEdit* preview_ = nullptr;
    QLabel* checks_ = nullptr;
    QPushButton* start_ = nullptr;
    QPushButton* anyway_ = nullptr;
    QPushButton* wait_ = nullptr;
    QPushButton* pauseTests_ = nullptr;
    QPushButton* stopOther_ = nullptr;
    std::vector<ProcessKey> heavyTests_;
    std::vector<ProcessKey> competing_;
    QPushButton* stop_ = nullptr;
    QPushButton* next_ = nullptr;
    QLabel* state_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* compiling_ = nullptr;
    QLabel* memory_ = nullptr;
    QLabel* diagnosis_ = nullptr;
    QPlainTextEdit* log_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QTableWidget* presetTable_ = nullptr;
    QTableWidget* crateTable_ = nullptr;
    QTableWidget* runTable_ = nullptr;

    QGroupBox* poolBox_ = nullptr;
    QLabel* poolJobs_ = nullptr;
    QLabel* poolBudget_ = nullptr;
    QLabel* poolPredicted_ = nullptr;
    QLabel* poolHeldBack_ = nullptr;
    QLabel* poolPaused_ = nullptr;
    QLabel* poolRetries_ = nullptr;
    QLabel* poolProblem_ = nullptr;
    class PoolChart* poolChart_ = nullptr;
};

} // namespace headroom::ui
