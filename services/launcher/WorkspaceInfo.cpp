// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/WorkspaceInfo.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>

#include <algorithm>

namespace headroom::services {

const CargoPackageInfo* WorkspaceInfo::package(const QString& name) const
{
    for (const auto& p : packages) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

namespace {
QStringList collect(const std::vector<CargoPackageInfo>& packages, QStringList CargoPackageInfo::*member)
{
    QStringList out;
    for (const auto& p : packages)
        out += p.*member;
    out.removeDuplicates();
    out.sort();
    return out;
}

QStringList profilesOf(const QString& manifest)
{
    QStringList profiles{"dev", "release", "test", "bench"};
    QFile file(manifest);
    if (!file.open(QIODevice::ReadOnly))
        return profiles;
    static const QRegularExpression section(QStringLiteral("^\\s*\\[profile\\.([A-Za-z0-9_-]+)\\]"));
    for (const QString& line : QString::fromUtf8(file.readAll()).split('\n')) {
        const auto match = section.match(line);
        if (match.hasMatch() && !profiles.contains(match.captured(1)))
            profiles << match.captured(1);
    }
    return profiles;
}
} // namespace

QStringList WorkspaceInfo::allBins() const
{
    return collect(packages, &CargoPackageInfo::bins);
}
QStringList WorkspaceInfo::allExamples() const
{
    return collect(packages, &CargoPackageInfo::examples);
}
QStringList WorkspaceInfo::allFeatures() const
{
    return collect(packages, &CargoPackageInfo::features);
}

namespace {
QString targetKey(headroom::TargetKind kind, const QString& target)
{
    return (kind == headroom::TargetKind::Example ? QStringLiteral("example:") : QStringLiteral("bin:")) +
           target;
}
} // namespace

QStringList CargoPackageInfo::requiredFor(headroom::TargetKind kind, const QString& target) const
{
    if (kind != headroom::TargetKind::Bin && kind != headroom::TargetKind::Example)
        return {};
    return requiredFeatures.value(targetKey(kind, target));
}

QStringList WorkspaceInfo::requiredFeatures(headroom::TargetKind kind, const QString& target,
                                            const QString& packageName) const
{
    for (const auto& p : packages) {
        if (!packageName.isEmpty() && p.name != packageName)
            continue;
        const QStringList needed = p.requiredFor(kind, target);
        if (!needed.isEmpty())
            return needed;
    }
    return {};
}

std::optional<WorkspaceInfo> WorkspaceInfo::fromMetadata(const QByteArray& json, QString* error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error)
            *error = QStringLiteral("cargo metadata printed something that is not JSON (%1).")
                         .arg(parseError.errorString());
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    WorkspaceInfo info;
    info.root = root.value("workspace_root").toString();
    info.targetDir = root.value("target_directory").toString();
    for (const auto& value : root.value("packages").toArray()) {
        const QJsonObject p = value.toObject();
        CargoPackageInfo package;
        package.name = p.value("name").toString();
        package.manifestPath = p.value("manifest_path").toString();
        for (const auto& t : p.value("targets").toArray()) {
            const QJsonObject target = t.toObject();
            const QJsonArray kinds = target.value("kind").toArray();
            const QString name = target.value("name").toString();
            QStringList required;
            for (const auto& f : target.value("required-features").toArray())
                required << f.toString();
            for (const auto& k : kinds) {
                const QString kind = k.toString();
                if (kind == "bin" || kind == "example") {
                    (kind == "bin" ? package.bins : package.examples) << name;
                    if (!required.isEmpty())
                        package.requiredFeatures.insert(
                            targetKey(kind == "bin" ? TargetKind::Bin : TargetKind::Example, name), required);
                } else if (kind == "lib" || kind == "rlib" || kind == "cdylib" || kind == "staticlib" ||
                           kind == "dylib" || kind == "proc-macro")
                    package.hasLib = true;
            }
        }
        const QJsonObject features = p.value("features").toObject();
        package.features = features.keys();
        for (auto it = features.begin(); it != features.end(); ++it) {
            QStringList enables;
            for (const auto& v : it.value().toArray())
                enables << v.toString();
            package.featureMap.insert(it.key(), enables);
        }
        info.packages.push_back(std::move(package));
    }
    info.profiles = profilesOf(info.root + "/Cargo.toml");
    return info;
}

QString checkProject(const QString& projectDir, const QString& cargoProgram, QString* resolvedCargo)
{
    if (projectDir.trimmed().isEmpty())
        return QStringLiteral("Choose a project folder first: the folder that holds Cargo.toml.");
    const QFileInfo dir(projectDir);
    if (!dir.exists())
        return QStringLiteral(
                   "The project folder %1 does not exist. Choose the folder that holds Cargo.toml.")
            .arg(projectDir);
    if (!dir.isDir())
        return QStringLiteral("%1 is a file, not a folder. Choose the folder that holds Cargo.toml.")
            .arg(projectDir);
    if (!QFileInfo::exists(QDir(projectDir).filePath("Cargo.toml")))
        return QStringLiteral("%1 has no Cargo.toml. Choose the folder of a cargo package or workspace.")
            .arg(projectDir);
    const QString cargo =
        cargoProgram.contains('/') ? cargoProgram : QStandardPaths::findExecutable(cargoProgram);
    if (cargo.isEmpty() || !QFileInfo(cargo).isExecutable())
        return QStringLiteral(
                   "%1 was not found on PATH. Install Rust (for example with rustup) or set the cargo "
                   "program in the settings.")
            .arg(cargoProgram);
    if (resolvedCargo)
        *resolvedCargo = cargo;
    return {};
}

std::optional<WorkspaceInfo> WorkspaceInfo::load(const QString& projectDir, const QString& cargo,
                                                 QString* error, int timeoutMs)
{
    QString resolved;
    const QString problem = checkProject(projectDir, cargo, &resolved);
    if (!problem.isEmpty()) {
        if (error)
            *error = problem;
        return std::nullopt;
    }
    QProcess process;
    process.setWorkingDirectory(projectDir);
    process.start(resolved, {"metadata", "--no-deps", "--offline", "--format-version", "1"});
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished(1000);
        if (error)
            *error = QStringLiteral("cargo metadata did not answer within %1 s.").arg(timeoutMs / 1000);
        return std::nullopt;
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        if (error) {
            const QString said = QString::fromUtf8(process.readAllStandardError()).trimmed();
            *error = QStringLiteral("cargo could not read the workspace in %1: %2")
                         .arg(projectDir, said.section('\n', 0, 2));
        }
        return std::nullopt;
    }
    return fromMetadata(process.readAllStandardOutput(), error);
}

QStringList missingRequiredFeatures(const headroom::BuildRequest& r, const CargoPackageInfo& package,
                                    const WorkspaceInfo& info)
{
    const bool qualify = r.package.empty() && info.packages.size() > 1 &&
                         QFileInfo(package.manifestPath) != QFileInfo(info.root + "/Cargo.toml");
    const QStringList required = package.requiredFor(r.targetKind, QString::fromStdString(r.targetName));
    if (required.isEmpty())
        return {};
    const auto hasArg = [&](const char* arg) {
        return std::find(r.extraArgs.begin(), r.extraArgs.end(), std::string(arg)) != r.extraArgs.end();
    };
    if (hasArg("--all-features"))
        return {};
    // The features cargo would turn on for this package: the asked ones (bare
    // or as package/feature), the default set, and what each of them enables.
    QStringList pending;
    for (const QString& f :
         QString::fromStdString(r.features).split(QRegularExpression("[ ,]+"), Qt::SkipEmptyParts)) {
        if (!f.contains('/'))
            pending << f;
        else if (f.section('/', 0, 0) == package.name)
            pending << f.section('/', 1);
    }
    if (!hasArg("--no-default-features") && package.featureMap.contains(QStringLiteral("default")))
        pending << QStringLiteral("default");
    QStringList enabled;
    while (!pending.isEmpty()) {
        const QString f = pending.takeLast();
        if (enabled.contains(f))
            continue;
        enabled << f;
        for (const QString& next : package.featureMap.value(f)) {
            if (!next.contains(':') && !next.contains('/'))
                pending << next;
        }
    }
    QStringList missing;
    for (const QString& f : required) {
        // "dep/feature" requirements are left to cargo: they name another package's features.
        if (!f.contains('/') && !enabled.contains(f))
            missing << (qualify ? package.name + '/' + f : f);
    }
    return missing;
}

QStringList checkRequest(const headroom::BuildRequest& r, const WorkspaceInfo& info)
{
    using headroom::TargetKind;
    QStringList problems;
    std::vector<const CargoPackageInfo*> scope;
    const QString packageName = QString::fromStdString(r.package);
    if (!packageName.isEmpty()) {
        const auto* p = info.package(packageName);
        if (!p) {
            QStringList names;
            for (const auto& q : info.packages)
                names << q.name;
            problems << QStringLiteral("There is no package \"%1\" in this workspace. Packages: %2.")
                            .arg(packageName, names.join(", "));
            return problems;
        }
        scope.push_back(p);
    } else {
        for (const auto& p : info.packages)
            scope.push_back(&p);
    }
    const QString name = QString::fromStdString(r.targetName);
    auto anyOf = [&](auto predicate) { return std::any_of(scope.begin(), scope.end(), predicate); };
    if (r.targetKind == TargetKind::Example && !anyOf([&](auto* p) { return p->examples.contains(name); }))
        problems << QStringLiteral("There is no example \"%1\". Examples here: %2.")
                        .arg(name, info.allExamples().join(", ").isEmpty() ? QStringLiteral("none")
                                                                           : info.allExamples().join(", "));
    if (r.targetKind == TargetKind::Bin && !anyOf([&](auto* p) { return p->bins.contains(name); }))
        problems << QStringLiteral("There is no binary \"%1\". Binaries here: %2.")
                        .arg(name, info.allBins().join(", ").isEmpty() ? QStringLiteral("none")
                                                                       : info.allBins().join(", "));
    if (r.targetKind == TargetKind::Lib && !anyOf([](auto* p) { return p->hasLib; }))
        problems << QStringLiteral(
            "This package has no library target, so --lib (and preset C) cannot be used.");
    for (const QString& feature :
         QString::fromStdString(r.features).split(QRegularExpression("[ ,]+"), Qt::SkipEmptyParts)) {
        const QString bare = feature.section('/', -1);
        if (!anyOf([&](auto* p) { return p->features.contains(bare); }))
            problems << QStringLiteral("There is no feature \"%1\". Features here: %2.")
                            .arg(feature, info.allFeatures().join(", ").isEmpty()
                                              ? QStringLiteral("none")
                                              : info.allFeatures().join(", "));
    }
    if (r.targetKind == TargetKind::Bin || r.targetKind == TargetKind::Example) {
        for (const auto* p : scope) {
            const QStringList missing = missingRequiredFeatures(r, *p, info);
            if (missing.isEmpty())
                continue;
            const bool example = r.targetKind == TargetKind::Example;
            problems << QStringLiteral("The %1 %2 needs --features %3 (its required-features): add %4 under "
                                       "Features, or choose another target.")
                            .arg(example ? QStringLiteral("example") : QStringLiteral("binary"), name,
                                 missing.join(','),
                                 missing.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"));
            break;
        }
    }
    const QString profile = QString::fromStdString(r.profile);
    if (!profile.isEmpty() && !info.profiles.contains(profile))
        problems << QStringLiteral("There is no profile \"%1\". Profiles here: %2.")
                        .arg(profile, info.profiles.join(", "));
    return problems;
}

void nameTheOnlyBinary(BuildRequest& request, const WorkspaceInfo& info)
{
    if (request.targetKind != TargetKind::Default)
        return;
    const CargoPackageInfo* only = !request.package.empty()
                                       ? info.package(QString::fromStdString(request.package))
                                   : info.packages.size() == 1 ? &info.packages.front()
                                                               : nullptr;
    if (only && only->bins.size() == 1)
        request.targetName = only->bins.front().toStdString();
}

} // namespace headroom::services
