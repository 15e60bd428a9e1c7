// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/Process.h"

#include "headroom/RoleClassifier.h"
#include "headroom/Words.h"

namespace headroom {

// The words live in one table (Words.h).
char stateLetter(ProcessState state)
{
    return stateWords(state).letter;
}

std::string_view stateName(ProcessState state)
{
    return stateWord(state);
}

std::string ProcessSample::displayName() const
{
    if (!exe.empty()) {
        // A deleted executable reads as "/path/prog (deleted)"; the name is still prog.
        std::string_view path = exe;
        constexpr std::string_view deleted = " (deleted)";
        if (path.size() > deleted.size() && path.ends_with(deleted))
            path.remove_suffix(deleted.size());
        std::string_view base = programBaseName(path);
        if (!base.empty())
            return std::string(base);
    }
    return name;
}

namespace {

void appendQuoted(std::string& line, const std::string& arg)
{
    if (!line.empty())
        line += ' ';
    const bool needsQuotes = arg.empty() || arg.find_first_of(" \t\n'\"") != std::string::npos;
    if (!needsQuotes) {
        line += arg;
        return;
    }
    line += '\'';
    for (char c : arg) {
        if (c == '\'')
            line += "'\\''";
        else
            line += c;
    }
    line += '\'';
}

} // namespace

std::string ProcessSample::commandLine() const
{
    if (argv.empty())
        return "[" + name + "]";
    std::string line;
    for (const auto& arg : argv)
        appendQuoted(line, arg);
    return line;
}

std::string ProcessSample::displayCommand() const
{
    if (argv.empty())
        return "[" + name + "]";
    std::string line;
    const std::string_view base = programBaseName(argv.front());
    appendQuoted(line, base.empty() ? argv.front() : std::string(base));
    for (std::size_t i = 1; i < argv.size(); ++i)
        appendQuoted(line, argv[i]);
    return line;
}

} // namespace headroom
