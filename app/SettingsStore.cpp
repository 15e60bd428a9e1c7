// SPDX-License-Identifier: GPL-3.0-or-later
#include "SettingsStore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QStringDecoder>

#include <cmath>

namespace headroom::app {
namespace {

using ui::DashboardSettings;

constexpr auto kInterval = "sampling/intervalSeconds";
constexpr auto kHistory = "sampling/historyMinutes";
constexpr auto kGrace = "actions/graceSeconds";
constexpr auto kTestRunners = "roles/testRunners";
constexpr auto kLinkers = "roles/extraLinkers";
constexpr auto kCompilers = "roles/extraCompilers";
constexpr auto kWarnAvailable = "levels/warningAvailablePercent";
constexpr auto kCritAvailable = "levels/criticalAvailablePercent";
constexpr auto kWarnSwap = "levels/warningSwapPercent";
constexpr auto kWarnPressure = "levels/warningPressureSome";
constexpr auto kCritPressure = "levels/criticalPressureFull";
constexpr auto kMargin = "levels/marginPoints";
constexpr auto kRepeat = "notifications/repeatMinutes";
constexpr auto kQuiet = "notifications/quiet";
constexpr auto kGuard = "guard/enabled";
constexpr auto kGuardExternal = "guard/externalBuilds";
constexpr auto kGuardEmergency = "guard/emergencyAvailablePercent";
constexpr auto kGuardRest = "guard/restSeconds";
constexpr auto kTrayHint = "tray/closeHintShown";

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

// Binary junk or text that is not UTF-8 means the file was damaged (a crash
// mid-write, a disk error, a wrong file copied over it).
bool looksDamaged(const QByteArray& content)
{
    if (content.contains('\0'))
        return true;
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString decoded = decoder.decode(content);
    Q_UNUSED(decoded)
    return decoder.hasError();
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

    if (looksDamaged(content)) {
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

    DashboardSettings& s = loaded.settings;
    const DashboardSettings defaults;
    QStringList& w = loaded.warnings;
    s.intervalSeconds =
        readNumber(ini, kInterval, defaults.intervalSeconds, DashboardSettings::kMinIntervalSeconds,
                   DashboardSettings::kMaxIntervalSeconds, w);
    s.historyMinutes = static_cast<int>(
        std::lround(readNumber(ini, kHistory, defaults.historyMinutes, DashboardSettings::kMinHistoryMinutes,
                               DashboardSettings::kMaxHistoryMinutes, w)));
    s.graceSeconds = readNumber(ini, kGrace, defaults.graceSeconds, DashboardSettings::kMinGraceSeconds,
                                DashboardSettings::kMaxGraceSeconds, w);
    s.testRunners = readNames(ini, kTestRunners);
    s.extraLinkers = readNames(ini, kLinkers);
    s.extraCompilers = readNames(ini, kCompilers);
    auto& t = s.thresholds;
    const auto& d = defaults.thresholds;
    t.warningAvailablePercent = readNumber(ini, kWarnAvailable, d.warningAvailablePercent, 0, 100, w);
    t.criticalAvailablePercent = readNumber(ini, kCritAvailable, d.criticalAvailablePercent, 0, 100, w);
    t.warningSwapUsedPercent = readNumber(ini, kWarnSwap, d.warningSwapUsedPercent, 0, 100, w);
    t.warningPsiSome = readNumber(ini, kWarnPressure, d.warningPsiSome, 0, 100, w);
    t.criticalPsiFull = readNumber(ini, kCritPressure, d.criticalPsiFull, 0, 100, w);
    t.marginPoints = readNumber(ini, kMargin, d.marginPoints, 0, 50, w);
    s.notifyRepeatMinutes = readNumber(ini, kRepeat, defaults.notifyRepeatMinutes,
                                       DashboardSettings::kMinRepeatMinutes, DashboardSettings::kMaxRepeatMinutes, w);
    s.quiet = readFlag(ini, kQuiet, defaults.quiet, w);
    s.guardEnabled = readFlag(ini, kGuard, defaults.guardEnabled, w);
    s.guardExternalBuilds = readFlag(ini, kGuardExternal, defaults.guardExternalBuilds, w);
    s.guardEmergencyPercent = readNumber(ini, kGuardEmergency, defaults.guardEmergencyPercent, 0, 50, w);
    s.guardRestSeconds = readNumber(ini, kGuardRest, defaults.guardRestSeconds,
                                    DashboardSettings::kMinGuardRestSeconds,
                                    DashboardSettings::kMaxGuardRestSeconds, w);
    s.trayHintShown = readFlag(ini, kTrayHint, defaults.trayHintShown, w);
    return loaded;
}

QString SettingsStore::save(const DashboardSettings& settings)
{
    if (const QString problem = prepareWrite(); !problem.isEmpty())
        return problem;
    QSettings ini(filePath_, QSettings::IniFormat);
    ini.setValue(QLatin1String(kInterval), settings.intervalSeconds);
    ini.setValue(QLatin1String(kHistory), settings.historyMinutes);
    ini.setValue(QLatin1String(kGrace), settings.graceSeconds);
    ini.setValue(QLatin1String(kTestRunners), settings.testRunners.join(QLatin1Char(',')));
    ini.setValue(QLatin1String(kLinkers), settings.extraLinkers.join(QLatin1Char(',')));
    ini.setValue(QLatin1String(kCompilers), settings.extraCompilers.join(QLatin1Char(',')));
    const auto& t = settings.thresholds;
    ini.setValue(QLatin1String(kWarnAvailable), t.warningAvailablePercent);
    ini.setValue(QLatin1String(kCritAvailable), t.criticalAvailablePercent);
    ini.setValue(QLatin1String(kWarnSwap), t.warningSwapUsedPercent);
    ini.setValue(QLatin1String(kWarnPressure), t.warningPsiSome);
    ini.setValue(QLatin1String(kCritPressure), t.criticalPsiFull);
    ini.setValue(QLatin1String(kMargin), t.marginPoints);
    ini.setValue(QLatin1String(kRepeat), settings.notifyRepeatMinutes);
    ini.setValue(QLatin1String(kQuiet), settings.quiet);
    ini.setValue(QLatin1String(kGuard), settings.guardEnabled);
    ini.setValue(QLatin1String(kGuardExternal), settings.guardExternalBuilds);
    ini.setValue(QLatin1String(kGuardEmergency), settings.guardEmergencyPercent);
    ini.setValue(QLatin1String(kGuardRest), settings.guardRestSeconds);
    ini.setValue(QLatin1String(kTrayHint), settings.trayHintShown);
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
    auto number = [&](const char* name, double a, double b, const char* unit) {
        if (a != b)
            changes << QStringLiteral("%1: %2%4 -> %3%4")
                           .arg(QLatin1String(name))
                           .arg(a)
                           .arg(b)
                           .arg(QLatin1String(unit));
    };
    auto names = [&](const char* name, const QStringList& a, const QStringList& b) {
        if (a != b)
            changes << QStringLiteral("%1: [%2] -> [%3]")
                           .arg(QLatin1String(name), a.join(QStringLiteral(", ")),
                                b.join(QStringLiteral(", ")));
    };
    number("refresh interval", before.intervalSeconds, after.intervalSeconds, " s");
    number("history", before.historyMinutes, after.historyMinutes, " min");
    number("grace period", before.graceSeconds, after.graceSeconds, " s");
    names("extra test runners", before.testRunners, after.testRunners);
    names("extra linkers", before.extraLinkers, after.extraLinkers);
    names("extra compilers", before.extraCompilers, after.extraCompilers);
    const auto& a = before.thresholds;
    const auto& b = after.thresholds;
    number("warning at available", a.warningAvailablePercent, b.warningAvailablePercent, " %");
    number("critical at available", a.criticalAvailablePercent, b.criticalAvailablePercent, " %");
    number("warning at swap used", a.warningSwapUsedPercent, b.warningSwapUsedPercent, " %");
    number("warning at PSI some", a.warningPsiSome, b.warningPsiSome, " %");
    number("critical at PSI full", a.criticalPsiFull, b.criticalPsiFull, " %");
    number("level margin", a.marginPoints, b.marginPoints, " points");
    number("repeat notifications every", before.notifyRepeatMinutes, after.notifyRepeatMinutes, " min");
    auto flag = [&](const char* name, bool x, bool y) {
        if (x != y)
            changes << QStringLiteral("%1: %2").arg(QLatin1String(name), y ? QStringLiteral("on") : QStringLiteral("off"));
    };
    flag("don't disturb", before.quiet, after.quiet);
    flag("build guard", before.guardEnabled, after.guardEnabled);
    flag("guard external builds", before.guardExternalBuilds, after.guardExternalBuilds);
    number("guard emergency at available", before.guardEmergencyPercent, after.guardEmergencyPercent, " %");
    number("guard rest", before.guardRestSeconds, after.guardRestSeconds, " s");
    return changes;
}

} // namespace headroom::app
