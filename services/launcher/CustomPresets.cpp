// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/CustomPresets.h"

#include "headroom/Units.h"

#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QStringDecoder>

namespace headroom::services {

// Settings are text: a NUL byte or invalid UTF-8 means something else wrote
// the file (a crash mid-write, a disk error, a wrong file copied over it).
bool settingsTextLooksDamaged(const QByteArray& content)
{
    if (content.contains('\0'))
        return true;
    QStringDecoder decoder(QStringDecoder::Utf8);
    const QString decoded = decoder.decode(content);
    Q_UNUSED(decoded)
    return decoder.hasError();
}

LauncherSettings openLauncherSettings(const QString& path)
{
    LauncherSettings out;
    if (path.isEmpty()) {
        out.settings = std::make_unique<QSettings>();
        return out;
    }
    QString why;
    QFile file(path);
    if (file.exists() && file.open(QIODevice::ReadOnly)) {
        // Bounded: the launcher's settings are a few kilobytes.
        const QByteArray content = file.read(4 << 20);
        file.close();
        if (settingsTextLooksDamaged(content)) {
            why = QStringLiteral("it holds binary data");
        } else {
            QSettings probe(path, QSettings::IniFormat);
            if (probe.status() == QSettings::FormatError)
                why = QStringLiteral("it is not a valid settings file");
        }
    }
    if (!why.isEmpty()) {
        // QSettings would overwrite the file on its first save: keep it for the user first.
        const QString aside = path + QStringLiteral(".corrupt-") +
                              QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
        if (QFile::rename(path, aside))
            out.warning =
                QStringLiteral("The launcher's settings file %1 is damaged (%2): custom presets, recent "
                               "projects and the last build start empty; the damaged file is kept as %3.")
                    .arg(path, why, aside);
        else
            out.warning =
                QStringLiteral("The launcher's settings file %1 is damaged (%2) and could not be moved "
                               "aside: custom presets, recent projects and the last build start empty, "
                               "and the file is replaced when the launcher saves.")
                    .arg(path, why);
    }
    out.settings = std::make_unique<QSettings>(path, QSettings::IniFormat);
    if (!why.isEmpty())
        out.settings->clear(); // a file that could not be moved must not feed its garbage back
    return out;
}

MemorySizeInput parseMemorySize(const QString& text)
{
    MemorySizeInput in;
    const QString t = text.trimmed();
    if (t.isEmpty())
        return in;
    const auto refuse = [&](const QString& why) {
        in.ok = false;
        in.error = why;
        return in;
    };
    static const QRegularExpression form(
        QStringLiteral("^([0-9]+(?:\\.[0-9]+)?)\\s*(?:([KMGT])(?:i?B)?|B)?$"),
        QRegularExpression::CaseInsensitiveOption);
    const auto m = form.match(t);
    const QString shown = t.left(40);
    if (!m.hasMatch())
        return refuse(QStringLiteral("\"%1\" is not a size: type a number with K, M, G or T (4G, 512M), "
                                     "or leave it empty for no limit.")
                          .arg(shown));
    const QString unit = m.captured(2).toUpper();
    const int power = unit.isEmpty() ? 0 : QStringLiteral("KMGT").indexOf(unit) + 1;
    bool ok = false;
    const double figure = m.captured(1).toDouble(&ok);
    const double bytes = figure * double(1ull << (10 * power));
    // Bytes are whole: "1.5" alone is half a byte too many.
    if (!ok || (power == 0 && m.captured(1).contains('.')))
        return refuse(QStringLiteral("\"%1\" is not a whole number of bytes: add a unit (1.5G).").arg(shown));
    if (bytes >= 18446744073709551615.0)
        return refuse(QStringLiteral("\"%1\" is more memory than any machine has.").arg(shown));
    const quint64 value = quint64(bytes);
    if (value < 16 * MiB)
        return refuse(
            QStringLiteral("\"%1\" is too small a limit: a build needs far more than 16M.").arg(shown));
    in.bytes = value;
    return in;
}

QString formatMemorySize(quint64 bytes)
{
    static const char units[] = {'T', 'G', 'M', 'K'};
    for (int i = 0; i < 4; ++i) {
        const quint64 unit = 1ull << (10 * (4 - i));
        if (bytes >= unit && bytes % unit == 0)
            return QString::number(bytes / unit) + QLatin1Char(units[i]);
    }
    return QString::number(bytes);
}

QStringList CustomPreset::problems() const
{
    QStringList out;
    if (name.trimmed().isEmpty())
        out << QStringLiteral("Give the preset a name.");
    if (program.trimmed().isEmpty())
        out << QStringLiteral("Say which program the preset runs (for example make, ninja or cargo).");
    if (!splitArguments(arguments.toStdString()))
        out << QStringLiteral("The arguments have an unmatched quote.");
    for (const QString& line : environment.split('\n', Qt::SkipEmptyParts)) {
        if (!line.trimmed().isEmpty() && line.indexOf('=') <= 0)
            out << QStringLiteral("Environment line \"%1\" is not NAME=value.").arg(line.trimmed());
    }
    if (memoryHigh && memoryMax && *memoryHigh > *memoryMax)
        out << QStringLiteral("MemoryHigh (%1) is above MemoryMax (%2): the build would be killed before it "
                              "is ever slowed down. Make MemoryHigh the lower one.")
                   .arg(QString::fromStdString(formatBytes(*memoryHigh)),
                        QString::fromStdString(formatBytes(*memoryMax)));
    return out;
}

QString CustomPreset::description() const
{
    QString text = QStringLiteral("Custom preset \"%1\": runs exactly the command below.").arg(name);
    QStringList limits;
    if (memoryHigh)
        limits << QStringLiteral("slowed down above %1 (MemoryHigh)")
                      .arg(QString::fromStdString(formatBytes(*memoryHigh)));
    if (memoryMax)
        limits << QStringLiteral("stopped at %1 (MemoryMax)")
                      .arg(QString::fromStdString(formatBytes(*memoryMax)));
    if (!limits.isEmpty())
        text += QStringLiteral(" In its own systemd user scope it is %1; without one (no systemd user "
                               "manager, cgroup v1, macOS, Windows) the limits are not applied.")
                    .arg(limits.join(QStringLiteral(" and ")));
    if (usePool)
        text +=
            QStringLiteral(" It draws from the job pool: it gets the pool's jobserver, so make, ninja and "
                           "cargo run as many jobs as memory allows; a -j of its own is removed.");
    return text;
}

std::optional<BuildPlan> CustomPreset::plan(const QString& projectDir, QString* error) const
{
    const QStringList found = problems();
    if (!found.isEmpty()) {
        if (error)
            *error = found.join(' ');
        return std::nullopt;
    }
    BuildPlan plan;
    plan.preset = BuildPreset::Custom;
    plan.note = description().toStdString();
    plan.usesPool = usePool;
    BuildStep step;
    step.title = name.toStdString();
    step.program = program.trimmed().toStdString();
    step.args = *splitArguments(arguments.toStdString());
    for (const QString& line : environment.split('\n', Qt::SkipEmptyParts)) {
        const auto eq = line.indexOf('=');
        if (eq > 0)
            step.environment[line.left(eq).trimmed().toStdString()] = line.mid(eq + 1).toStdString();
    }
    step.workingDir = (workingDir.trimmed().isEmpty() ? projectDir : workingDir.trimmed()).toStdString();
    plan.steps.push_back(std::move(step));
    return plan;
}

std::vector<CustomPreset> loadCustomPresets(QSettings& settings)
{
    std::vector<CustomPreset> presets;
    const int size = settings.beginReadArray(QStringLiteral("launcher/customPresets"));
    for (int i = 0; i < size; ++i) {
        settings.setArrayIndex(i);
        CustomPreset p;
        p.name = settings.value("name").toString();
        p.program = settings.value("program").toString();
        p.arguments = settings.value("arguments").toString();
        p.environment = settings.value("environment").toString();
        p.workingDir = settings.value("workingDir").toString();
        // Absent in files written before there were limits; junk or 0 is no limit.
        const auto size = [&](const char* key) -> std::optional<quint64> {
            bool ok = false;
            const quint64 v = settings.value(key).toULongLong(&ok);
            return ok && v > 0 ? std::optional<quint64>(v) : std::nullopt;
        };
        p.memoryHigh = size("memoryHigh");
        p.memoryMax = size("memoryMax");
        p.usePool = settings.value("usePool", false).toBool();
        if (!p.name.isEmpty())
            presets.push_back(p);
    }
    settings.endArray();
    return presets;
}

void saveCustomPresets(QSettings& settings, const std::vector<CustomPreset>& presets)
{
    settings.remove(QStringLiteral("launcher/customPresets"));
    settings.beginWriteArray(QStringLiteral("launcher/customPresets"), int(presets.size()));
    for (int i = 0; i < int(presets.size()); ++i) {
        settings.setArrayIndex(i);
        const auto& p = presets[std::size_t(i)];
        settings.setValue("name", p.name);
        settings.setValue("program", p.program);
        settings.setValue("arguments", p.arguments);
        settings.setValue("environment", p.environment);
        settings.setValue("workingDir", p.workingDir);
        if (p.memoryHigh)
            settings.setValue("memoryHigh", qulonglong(*p.memoryHigh));
        if (p.memoryMax)
            settings.setValue("memoryMax", qulonglong(*p.memoryMax));
        if (p.usePool)
            settings.setValue("usePool", true);
    }
    settings.endArray();
    settings.sync();
}

} // namespace headroom::services
