#pragma once

// User-defined presets for builds that are not plain cargo builds: make,
// ninja, `cmake --build`, `cargo nextest run`... Saved with the settings.

#include "headroom/BuildPlan.h"

#include <QSettings>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

namespace headroom::services {

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

// The launcher's own settings file: custom presets, recent projects, the last
// build. A damaged file is moved aside with a warning and the launcher starts
// clean, as the main settings file does; an empty path uses the application's
// default settings.
struct LauncherSettings {
    std::unique_ptr<QSettings> settings;
    QString warning; // empty when the file was fine or absent
};
LauncherSettings openLauncherSettings(const QString& path);

// True when a settings file's bytes cannot be what QSettings wrote: a NUL
// byte or invalid UTF-8.
bool settingsTextLooksDamaged(const QByteArray& content);

std::vector<CustomPreset> loadCustomPresets(QSettings& settings);
void saveCustomPresets(QSettings& settings, const std::vector<CustomPreset>& presets);

} // namespace headroom::services
