// SPDX-License-Identifier: GPL-3.0-or-later
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
    // The build's systemd user scope (Linux with a user manager): above
    // memoryHigh the kernel slows the build down, at memoryMax it kills in
    // the scope. Bytes; unset: no limit. Where there is no scope they are
    // not applied (the run's log says so).
    std::optional<quint64> memoryHigh = std::nullopt;
    std::optional<quint64> memoryMax = std::nullopt;
    // Draws from the job pool: the command gets the pool's jobserver (make,
    // ninja 1.13+ and cargo take it) instead of its own -j.
    bool usePool = false;

    // Problems a person can fix ("Give the preset a name."), empty when fine.
    QStringList problems() const;
    // What the preset does, in words: the launcher shows it under the preset.
    QString description() const;
    // The one step this preset runs for `projectDir`.
    std::optional<BuildPlan> plan(const QString& projectDir, QString* error = nullptr) const;
};

// A memory size as a person types it: "4G", "512M", "1.5 GiB", "3221225472"
// (bytes); K, M, G, T are powers of 1024, as systemd reads them. Empty text
// is no limit. Junk, zero and sizes too small to build anything (under 16 MiB)
// are refused with a message.
struct MemorySizeInput {
    bool ok = true;
    std::optional<quint64> bytes; // none: no limit
    QString error;                // when !ok: what is wrong and what to type
};
MemorySizeInput parseMemorySize(const QString& text);
// The short form parseMemorySize() reads back: "4G", "1536M", "3221225473".
QString formatMemorySize(quint64 bytes);

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
