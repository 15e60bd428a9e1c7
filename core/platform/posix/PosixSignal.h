#pragma once

// The signal each action sends on POSIX systems (Linux, macOS).

#include "headroom/ProcessControl.h"

#include <csignal>

namespace headroom::posix {

inline int signalFor(ProcessAction action)
{
    switch (action) {
    case ProcessAction::Pause:
        return SIGSTOP;
    case ProcessAction::Resume:
        return SIGCONT;
    case ProcessAction::Terminate:
        return SIGTERM;
    case ProcessAction::Kill:
        return SIGKILL;
    }
    return SIGTERM;
}

} // namespace headroom::posix
