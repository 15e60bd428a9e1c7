// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Tests that talk to D-Bus run on a private session bus of their own, never
// on a user's (whose notification daemon or keyring they must not touch).
// When not already on one, the test runs itself again under dbus-run-session
// with a bus configuration that has no service directories, so nothing is
// ever started by D-Bus activation behind its back.

#include <QByteArray>
#include <QLatin1String>
#include <QtGlobal>

#include <cstdio>
#include <unistd.h>
#include <vector>

namespace headroom::test {

// Returns only when this process is already on the private bus (true), or
// when running itself again failed (false, said on stderr). `busConfig` is
// the bus configuration file.
inline bool onPrivateSessionBus(int argc, char** argv, const char* busConfig)
{
    if (qEnvironmentVariable("HEADROOM_TEST_PRIVATE_BUS") == QLatin1String("1"))
        return true;
    qputenv("HEADROOM_TEST_PRIVATE_BUS", "1");
    static char runner[] = "dbus-run-session";
    static char separator[] = "--";
    static QByteArray config;
    config = QByteArray("--config-file=") + busConfig;
    // This very executable (argv[0] may be relative to a directory ctest left).
    static char self[4096] = {};
    if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) {
        std::perror("cannot find this executable");
        return false;
    }
    std::vector<char*> args{runner, config.data(), separator, self};
    for (int i = 1; i < argc; ++i)
        args.push_back(argv[i]);
    args.push_back(nullptr);
    execvp(runner, args.data());
    std::perror("cannot run dbus-run-session (package dbus-daemon)");
    return false;
}

} // namespace headroom::test
