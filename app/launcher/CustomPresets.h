#pragma once

// User-defined presets for builds that are not plain cargo builds: make,
// ninja, `cmake --build`, `cargo nextest run`... Saved with the settings.

#include "headroom/BuildPlan.h"

#include <QSettings>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace headroom::app {

struct CustomPreset {
    QString name;
    QString program;
    QString arguments;   // as typed: split like a shell would, never run by one
    QString environment; // NAME=value, one per line
    QString workingDir;  // empty: the project folder

    // Problems a person can fix ("Give the preset a name."), empty when fine.
    QStringList problems() const;
    // The one step this preset runs for `projectDir`.
    std::optional<BuildPlan> plan(const QString& projectDir, QString* error = nullptr) const;
};

std::vector<CustomPreset> loadCustomPresets(QSettings& settings);
void saveCustomPresets(QSettings& settings, const std::vector<CustomPreset>& presets);

} // namespace headroom::app
