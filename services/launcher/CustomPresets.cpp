// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/launcher/CustomPresets.h"

#include <QDateTime>
#include <QFile>
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
    return out;
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
    plan.note = "Custom preset \"" + name.toStdString() + "\": runs exactly the command below.";
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
    }
    settings.endArray();
    settings.sync();
}

} // namespace headroom::services
