#pragma once

// What a cargo workspace offers (packages, binaries, examples, features,
// profiles), read from `cargo metadata --no-deps --offline`, so the launcher
// offers real choices and rejects unknown ones before cargo does.

#include "headroom/BuildPlan.h"

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace headroom::app {

struct CargoPackageInfo {
    QString name;
    QString manifestPath;
    QStringList bins;
    QStringList examples;
    bool hasLib = false;
    QStringList features;
};

struct WorkspaceInfo {
    QString root;      // workspace_root
    QString targetDir; // target_directory
    std::vector<CargoPackageInfo> packages;
    QStringList profiles; // dev, release, test, bench and the [profile.*] of the root manifest

    const CargoPackageInfo* package(const QString& name) const;
    QStringList allBins() const;
    QStringList allExamples() const;
    QStringList allFeatures() const;

    // Parses cargo metadata's JSON (format-version 1).
    static std::optional<WorkspaceInfo> fromMetadata(const QByteArray& json, QString* error);
    // Runs cargo metadata in `projectDir`; nullopt with a message a person can act on.
    static std::optional<WorkspaceInfo> load(const QString& projectDir, const QString& cargo, QString* error,
                                             int timeoutMs = 30000);
};

// Problems with the folder and the tools, before anything runs: a missing
// folder, no Cargo.toml, cargo not on PATH. Empty when all is well.
QString checkProject(const QString& projectDir, const QString& cargoProgram,
                     QString* resolvedCargo = nullptr);

// Unknown package, binary, example, feature or profile, in words; empty when
// the request fits the workspace.
QStringList checkRequest(const headroom::BuildRequest& request, const WorkspaceInfo& info);

} // namespace headroom::app
