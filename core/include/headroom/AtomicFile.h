// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Replacing a small file so that a reader sees the old text or the new one,
// never half of it: a temporary file beside it (unique per process and per
// write, mode 0600 unless asked otherwise, never through a link), fsync, then rename over the old
// one. The runs folder, the job pool's ledger and the learned peaks all
// write this way; so does the exporter's textfile, which other users'
// programs (node_exporter) read: `mode` is the new file's permissions
// (POSIX; exactly these, whatever the umask).

#include "headroom/Result.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace headroom {

// Creates the folder if missing. Failure says why ("cannot write …: No space
// left on device (is the disk full?)") and leaves the old file as it was.
Result<bool> writeFileAtomically(const std::filesystem::path& path, const std::string& text,
                                 unsigned mode = 0600);

// Reading such a file back. A file being replaced at this instant cannot be
// opened on Windows (a sharing violation): that is tried again for a short
// while, and the reader shares delete access so it never holds up a writer.
struct SmallFile {
    enum class Outcome {
        Missing,    // there is no such file
        Read,       // `text` is all of it
        TooLarge,   // more than the limit: not one of ours
        Unreadable, // there, but not readable now (`why`); no reason to move it aside
    };
    Outcome outcome = Outcome::Missing;
    std::string text;
    std::string why;
};

SmallFile readSmallFile(const std::filesystem::path& path, std::uintmax_t maxBytes);

// Moves a file that cannot be used to <path>.corrupt, or .corrupt-1 and on
// when an earlier damaged copy is there (that one is kept too). Says what
// happened, to go into a message: "it was moved aside to …" or "it could
// not be moved aside either (…)".
std::string moveAsideDamaged(const std::filesystem::path& path);

} // namespace headroom
