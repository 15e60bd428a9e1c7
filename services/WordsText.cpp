// SPDX-License-Identifier: GPL-3.0-or-later
#include "services/WordsText.h"

#include <QCoreApplication>

#include <string>

namespace headroom::services {
namespace {

QString translated(std::string_view word)
{
    const std::string source(word); // the table's views are not promised to end in a NUL
    return QCoreApplication::translate("headroom::Words", source.c_str());
}

} // namespace

QString roleLabelText(ProcessRole role)
{
    return translated(roleLabel(role));
}

QString roleNounText(ProcessRole role, bool plural)
{
    return translated(roleNoun(role, plural));
}

QString stateText(ProcessState state)
{
    return translated(stateWord(state));
}

} // namespace headroom::services
