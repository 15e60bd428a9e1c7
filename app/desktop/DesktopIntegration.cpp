// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/DesktopIntegration.h"

#include "services/SafeDisplayText.h"

#include <QCoreApplication>

namespace headroom::app {

QString commandLabel(DesktopCommand command)
{
    auto tr = [](const char* text) { return QCoreApplication::translate("DesktopCommand", text); };
    switch (command) {
    case DesktopCommand::ShowDashboard:
        return tr("Show dashboard");
    case DesktopCommand::StartLastBuild:
        return tr("Start last build");
    case DesktopCommand::StopRunawayBuilds:
        return tr("Stop builds");
    case DesktopCommand::PauseBuilds:
        return tr("Pause builds");
    case DesktopCommand::ResumeBuilds:
        return tr("Resume builds");
    case DesktopCommand::PauseTests:
        return tr("Pause tests");
    case DesktopCommand::SetGuard:
        return tr("Build guard");
    case DesktopCommand::SetQuiet:
        return tr("Don't disturb");
    case DesktopCommand::Quit:
        return tr("Quit");
    }
    return {};
}

DesktopNotification safeNotification(DesktopNotification n)
{
    n.title = services::safeDisplayText(n.title, 512);
    n.body = services::safeDisplayLines(n.body);
    return n;
}

} // namespace headroom::app
