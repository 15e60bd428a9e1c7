#pragma once

// What a cargo workspace offers (packages, binaries, examples, features,
// profiles), read from `cargo metadata --no-deps --offline`, so the launcher
// offers real choices and rejects unknown ones before cargo does.

#include "headroom/BuildPlan.h"

#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace headroom::services {

struct CargoPackageInfo {
    QString name;
    QString manifestPath;
    QStringList bins;
    QStringList examples;
    bool hasLib = false;
    QStringList features;
    // What each feature turns on (cargo metadata's "features" map).
    QMap<QString, QStringList> featureMap;
    // The `required-features` of a bin or example, keyed by "bin:NAME" or
    // "example:NAME"; absent when it needs none.
    QMap<QString, QStringList> requiredFeatures;

    QStringList requiredFor(headroom::TargetKind kind, const QString& target) const;
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
    // The features a bin or example needs, from whichever package has it.
    QStringList requiredFeatures(headroom::TargetKind kind, const QString& target,
                                 const QString& package = {}) const;

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

// Unknown package, binary, example, feature or profile, or a target built
// without the features it requires, in words; empty when the request fits the
// workspace.
QStringList checkRequest(const headroom::BuildRequest& request, const WorkspaceInfo& info);

// A default target of a package with exactly one binary names that binary,
// as cargo would build it (the package asked for, or the only package), so
// the history, the run and the artifact check all see the same target.
void nameTheOnlyBinary(headroom::BuildRequest& request, const WorkspaceInfo& info);

// The required-features of the request's bin or example in `package` that the
// request does not turn on (counting default features and what features
// enable); empty when none are missing. Spelled "package/feature" when cargo
// needs that form: no package chosen and `package` is not the root package.
QStringList missingRequiredFeatures(const headroom::BuildRequest& request, const CargoPackageInfo& package,
                                    const WorkspaceInfo& info);

} // namespace headroom::services
