// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/SettingsStore.h"

#include "services/SafeDisplayText.h"
#include "services/launcher/CustomPresets.h"
#include "services/remote/MachineEntry.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QStringDecoder>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <variant>

namespace headroom::services {
namespace {

// A yes/no under `key`, or the default with a warning.
bool readFlag(QSettings& ini, const char* key, bool fallback, QStringList& warnings)
{
    const QVariant raw = ini.value(QLatin1String(key));
    if (!raw.isValid())
        return fallback;
    const QString text = raw.toString().trimmed().toLower();
    if (text == QLatin1String("true") || text == QLatin1String("1") || text == QLatin1String("yes"))
        return true;
    if (text == QLatin1String("false") || text == QLatin1String("0") || text == QLatin1String("no"))
        return false;
    warnings << QStringLiteral("Setting %1 = \"%2\" is neither true nor false; using %3 instead.")
                    .arg(QLatin1String(key), raw.toString(),
                         fallback ? QStringLiteral("true") : QStringLiteral("false"));
    return fallback;
}

// A number in [low, high] under `key`, or the default with a warning.
double readNumber(QSettings& ini, const char* key, double fallback, double low, double high,
                  QStringList& warnings)
{
    const QVariant raw = ini.value(QLatin1String(key));
    if (!raw.isValid())
        return fallback;
    bool ok = false;
    const double value = raw.toString().trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(value) || value < low || value > high) {
        warnings << QStringLiteral("Setting %1 = \"%2\" is not a number between %3 and %4; using %5 instead.")
                        .arg(QLatin1String(key), raw.toString())
                        .arg(low)
                        .arg(high)
                        .arg(fallback);
        return fallback;
    }
    return value;
}

QStringList readNames(QSettings& ini, const char* key)
{
    const QVariant raw = ini.value(QLatin1String(key));
    QStringList names = raw.typeId() == QMetaType::QStringList
                            ? raw.toStringList()
                            : raw.toString().split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (QString& name : names)
        name = name.trimmed();
    names.removeAll(QString());
    return names;
}

// Every setting in the file, listed once: its key, the member it fills, the
// words for a change (none: not a choice the user makes) and, for numbers,
// the allowed range. Loading, saving and describing changes all walk it.
using Member = std::variant<double DashboardSettings::*, int DashboardSettings::*, bool DashboardSettings::*,
                            QStringList DashboardSettings::*, double LevelThresholds::*>;

struct Field {
    const char* key;
    Member member;
    const char* label;
    const char* unit = "";
    double low = 0.0;
    double high = 0.0;
};

using D = DashboardSettings;
using T = LevelThresholds;
const Field kFields[] = {
    {"sampling/intervalSeconds", &D::intervalSeconds, "refresh interval", " s", D::kMinIntervalSeconds,
     D::kMaxIntervalSeconds},
    {"sampling/historyMinutes", &D::historyMinutes, "history", " min", D::kMinHistoryMinutes,
     D::kMaxHistoryMinutes},
    {"actions/graceSeconds", &D::graceSeconds, "grace period", " s", D::kMinGraceSeconds,
     D::kMaxGraceSeconds},
    {"builds/oomScoreAdj", &D::buildOomScoreAdj, "builds' OOM score adjustment", "", D::kMinBuildOomScoreAdj,
     D::kMaxBuildOomScoreAdj},
    {"roles/testRunners", &D::testRunners, "extra test runners"},
    {"roles/extraLinkers", &D::extraLinkers, "extra linkers"},
    {"roles/extraCompilers", &D::extraCompilers, "extra compilers"},
    {"levels/warningAvailablePercent", &T::warningAvailablePercent, "warning at available", " %", 0, 100},
    {"levels/criticalAvailablePercent", &T::criticalAvailablePercent, "critical at available", " %", 0, 100},
    {"levels/warningSwapPercent", &T::warningSwapUsedPercent, "warning at swap used", " %", 0, 100},
    {"levels/warningPressureSome", &T::warningPsiSome, "warning at PSI some", " %", 0, 100},
    {"levels/criticalPressureFull", &T::criticalPsiFull, "critical at PSI full", " %", 0, 100},
    {"levels/marginPoints", &T::marginPoints, "level margin", " points", 0, 50},
    {"notifications/repeatMinutes", &D::notifyRepeatMinutes, "repeat notifications every", " min",
     D::kMinRepeatMinutes, D::kMaxRepeatMinutes},
    {"notifications/quiet", &D::quiet, "don't disturb"},
    {"guard/enabled", &D::guardEnabled, "build guard"},
    {"guard/externalBuilds", &D::guardExternalBuilds, "guard external builds"},
    {"guard/emergencyAvailablePercent", &D::guardEmergencyPercent, "guard emergency at available", " %", 0,
     50},
    {"guard/restSeconds", &D::guardRestSeconds, "guard rest", " s", D::kMinGuardRestSeconds,
     D::kMaxGuardRestSeconds},
    {"tray/closeHintShown", &D::trayHintShown, nullptr},
};

// Calls `visit` with the member a field names in each of `settings` (the
// thresholds are a nested struct).
template <class Visitor, class... Settings>
void visitMember(const Member& member, Visitor&& visit, Settings&... settings)
{
    std::visit(
        [&](auto pointer) {
            if constexpr (std::is_same_v<decltype(pointer), double T::*>)
                visit((settings.thresholds.*pointer)...);
            else
                visit((settings.*pointer)...);
        },
        member);
}

// Remote machines, one INI group each in the order of the switcher:
// [machines] 1\id=buildbox, 1\name=..., size=N. Never a password: that is
// in the CredentialStore under the id.
const char* const kMachinesArray = "machines";
const char* const kShownMachineKey = "machines/shown";

QString kindName(MachineEntry::Kind kind)
{
    return kind == MachineEntry::Kind::Exporter ? QStringLiteral("exporter") : QStringLiteral("prometheus");
}

MachineList readMachines(QSettings& ini, QStringList& warnings)
{
    MachineList machines;
    const int count = ini.beginReadArray(QLatin1String(kMachinesArray));
    // A hand-edited size of a million must not make a million warnings.
    const int bounded = std::min(count, 200);
    for (int i = 0; i < bounded; ++i) {
        ini.setArrayIndex(i);
        MachineEntry entry;
        entry.id = ini.value(QStringLiteral("id")).toString().trimmed();
        entry.name = ini.value(QStringLiteral("name")).toString().trimmed();
        const QString kind =
            ini.value(QStringLiteral("kind"), QStringLiteral("prometheus")).toString().trimmed();
        entry.url = ini.value(QStringLiteral("url")).toString().trimmed();
        entry.instance = ini.value(QStringLiteral("instance")).toString().trimmed();
        entry.username = ini.value(QStringLiteral("username")).toString();
        entry.caFile = ini.value(QStringLiteral("caFile")).toString();
        const QString where = QStringLiteral("Remote machine %1 (\"%2\")")
                                  .arg(i + 1)
                                  .arg(safeDisplayText(entry.id.isEmpty() ? entry.name : entry.id, 80));
        if (ini.contains(QStringLiteral("password")))
            warnings << QStringLiteral("%1 has a password in the settings file; it is ignored and removed "
                                       "at the next save. Passwords are kept in the keyring.")
                            .arg(where);
        if (kind == QLatin1String("exporter")) {
            entry.kind = MachineEntry::Kind::Exporter;
        } else if (kind != QLatin1String("prometheus")) {
            warnings << QStringLiteral("%1 is skipped: its kind \"%2\" is neither prometheus nor exporter.")
                            .arg(where, safeDisplayText(kind, 80));
            continue;
        }
        entry.followInTray = readFlag(ini, "followInTray", false, warnings);
        // A CA file that is missing today must not drop the machine from the
        // settings: the request says so each time instead.
        MachineEntry checked = entry;
        checked.caFile.clear();
        if (const QString problem = validateMachine(checked, machines); !problem.isEmpty()) {
            warnings << QStringLiteral("%1 is skipped: %2").arg(where, problem);
            continue;
        }
        machines << entry;
    }
    ini.endArray();
    if (count > bounded)
        warnings << QStringLiteral("The settings file lists %1 remote machines; only the first %2 are read.")
                        .arg(count)
                        .arg(bounded);
    return machines;
}

void writeMachines(QSettings& ini, const MachineList& machines)
{
    ini.remove(QLatin1String(kMachinesArray)); // stale keys (an old password) go with the old list
    ini.beginWriteArray(QLatin1String(kMachinesArray), int(machines.size()));
    for (int i = 0; i < machines.size(); ++i) {
        const MachineEntry& entry = machines[i];
        ini.setArrayIndex(i);
        ini.setValue(QStringLiteral("id"), entry.id);
        ini.setValue(QStringLiteral("name"), entry.name);
        ini.setValue(QStringLiteral("kind"), kindName(entry.kind));
        ini.setValue(QStringLiteral("url"), entry.url);
        if (entry.kind == MachineEntry::Kind::Prometheus)
            ini.setValue(QStringLiteral("instance"), entry.instance);
        if (!entry.username.isEmpty())
            ini.setValue(QStringLiteral("username"), entry.username);
        if (!entry.caFile.isEmpty())
            ini.setValue(QStringLiteral("caFile"), entry.caFile);
        ini.setValue(QStringLiteral("followInTray"), entry.followInTray);
    }
    ini.endArray();
}

QString machineNames(const MachineList& machines)
{
    QStringList names;
    for (const MachineEntry& entry : machines)
        names << entry.name;
    return names.join(QStringLiteral(", "));
}

} // namespace

SettingsStore::SettingsStore(QString filePath) : filePath_(std::move(filePath)) {}

QString SettingsStore::defaultFilePath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation))
        .filePath(QStringLiteral("headroom/headroom.conf"));
}

SettingsStore::Loaded SettingsStore::load()
{
    Loaded loaded;
    writable_ = true;
    replaceOnSave_ = false;
    QFileInfo info(filePath_);
    if (!info.exists())
        return loaded;

    QFile file(filePath_);
    if (!file.open(QIODevice::ReadOnly)) {
        writable_ = false;
        loaded.warnings << QStringLiteral(
                               "Cannot read the settings file %1 (%2). Using the default settings; "
                               "the file is left as it is and changes will not be saved.")
                               .arg(filePath_, file.errorString());
        return loaded;
    }
    const QByteArray content = file.readAll();
    file.close();

    auto setAside = [&](const QString& why) {
        const QString aside = filePath_ + QStringLiteral(".corrupt-") +
                              QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        if (QFile::copy(filePath_, aside)) {
            loaded.setAsidePath = aside;
            replaceOnSave_ = true;
            loaded.warnings << QStringLiteral(
                                   "The settings file %1 is damaged (%2). Using the default settings; "
                                   "a copy of the damaged file is kept as %3.")
                                   .arg(filePath_, why, aside);
        } else {
            writable_ = false;
            loaded.warnings << QStringLiteral(
                                   "The settings file %1 is damaged (%2) and could not be copied aside. "
                                   "Using the default settings; the file is left as it is and changes "
                                   "will not be saved.")
                                   .arg(filePath_, why);
        }
    };

    if (settingsTextLooksDamaged(content)) {
        setAside(QStringLiteral("it holds binary data"));
        return loaded;
    }
    QSettings ini(filePath_, QSettings::IniFormat);
    if (ini.status() == QSettings::FormatError) {
        setAside(QStringLiteral("it is not a valid settings file"));
        return loaded;
    }
    if (ini.status() == QSettings::AccessError) {
        writable_ = false;
        loaded.warnings << QStringLiteral(
                               "Cannot read the settings file %1. Using the default settings; the file "
                               "is left as it is and changes will not be saved.")
                               .arg(filePath_);
        return loaded;
    }

    // Each setting starts at its default, which is also what a bad value falls back to.
    for (const Field& field : kFields) {
        visitMember(
            field.member,
            [&](auto& value) {
                using Value = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<Value, QStringList>) {
                    value = readNames(ini, field.key);
                } else if constexpr (std::is_same_v<Value, bool>) {
                    value = readFlag(ini, field.key, value, loaded.warnings);
                } else {
                    const double read =
                        readNumber(ini, field.key, value, field.low, field.high, loaded.warnings);
                    value = std::is_same_v<Value, int> ? static_cast<Value>(std::lround(read))
                                                       : static_cast<Value>(read);
                }
            },
            loaded.settings);
    }

    loaded.settings.machines = readMachines(ini, loaded.warnings);
    const QString shown = ini.value(QLatin1String(kShownMachineKey)).toString().trimmed();
    if (!shown.isEmpty()) {
        const bool known = std::any_of(loaded.settings.machines.begin(), loaded.settings.machines.end(),
                                       [&](const MachineEntry& entry) { return entry.id == shown; });
        if (known)
            loaded.settings.shownMachine = shown;
        else
            loaded.warnings << QStringLiteral("The shown machine \"%1\" is not among the remote machines; "
                                              "showing this machine instead.")
                                   .arg(safeDisplayText(shown, 80));
    }
    return loaded;
}

QString SettingsStore::save(const DashboardSettings& settings)
{
    if (const QString problem = prepareWrite(); !problem.isEmpty())
        return problem;
    QSettings ini(filePath_, QSettings::IniFormat);
    for (const Field& field : kFields) {
        visitMember(
            field.member,
            [&](const auto& value) {
                if constexpr (std::is_same_v<std::decay_t<decltype(value)>, QStringList>)
                    ini.setValue(QLatin1String(field.key), value.join(QLatin1Char(',')));
                else
                    ini.setValue(QLatin1String(field.key), value);
            },
            settings);
    }
    writeMachines(ini, settings.machines);
    ini.setValue(QLatin1String(kShownMachineKey), settings.shownMachine);
    // An older file's critical swap threshold no longer decides anything.
    ini.remove(QStringLiteral("levels/criticalSwapPercent"));
    ini.sync();
    if (ini.status() != QSettings::NoError)
        return QStringLiteral("cannot write %1").arg(filePath_);
    return {};
}

QString SettingsStore::prepareWrite()
{
    if (!writable_)
        return QStringLiteral("the settings file %1 could not be read at start, so it is not written over")
            .arg(filePath_);
    if (!QDir().mkpath(QFileInfo(filePath_).absolutePath()))
        return QStringLiteral("cannot create the folder for %1").arg(filePath_);
    if (replaceOnSave_) {
        // The damaged original is safe in its .corrupt copy; start a clean file.
        QFile::remove(filePath_);
        replaceOnSave_ = false;
    }
    return {};
}

QByteArray SettingsStore::loadLayout() const
{
    if (!writable_ || replaceOnSave_ || !QFileInfo::exists(filePath_))
        return {};
    QSettings ini(filePath_, QSettings::IniFormat);
    return ini.value(QStringLiteral("window/layout")).toByteArray();
}

QString SettingsStore::saveLayout(const QByteArray& layout)
{
    if (const QString problem = prepareWrite(); !problem.isEmpty())
        return problem;
    QSettings ini(filePath_, QSettings::IniFormat);
    ini.setValue(QStringLiteral("window/layout"), layout);
    ini.sync();
    return ini.status() == QSettings::NoError ? QString() : QStringLiteral("cannot write %1").arg(filePath_);
}

QStringList SettingsStore::describeChanges(const DashboardSettings& before, const DashboardSettings& after)
{
    QStringList changes;
    for (const Field& field : kFields) {
        if (!field.label)
            continue;
        const QString name = QLatin1String(field.label);
        visitMember(
            field.member,
            [&](const auto& a, const auto& b) {
                using Value = std::decay_t<decltype(a)>;
                if (a == b)
                    return;
                if constexpr (std::is_same_v<Value, QStringList>)
                    changes << QStringLiteral("%1: [%2] -> [%3]")
                                   .arg(name, a.join(QStringLiteral(", ")), b.join(QStringLiteral(", ")));
                else if constexpr (std::is_same_v<Value, bool>)
                    changes << QStringLiteral("%1: %2").arg(name,
                                                            b ? QStringLiteral("on") : QStringLiteral("off"));
                else
                    changes << QStringLiteral("%1: %2%4 -> %3%4")
                                   .arg(name)
                                   .arg(double(a))
                                   .arg(double(b))
                                   .arg(QLatin1String(field.unit));
            },
            before, after);
    }
    if (before.machines != after.machines)
        changes << QStringLiteral("remote machines: [%1] -> [%2]")
                       .arg(machineNames(before.machines), machineNames(after.machines));
    return changes;
}

} // namespace headroom::services
