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

#include <filesystem>
#include <string>

namespace headroom {

// Creates the folder if missing. Failure says why ("cannot write …: No space
// left on device (is the disk full?)") and leaves the old file as it was.
Result<bool> writeFileAtomically(const std::filesystem::path& path, const std::string& text,
                                 unsigned mode = 0600);

} // namespace headroom
