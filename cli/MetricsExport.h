// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// `headroom export`: what node_exporter does not know about this machine
// (the memory budget, the pressure level, the builds and their roles, the
// job pool, build outcomes, learned peaks) in Prometheus's text format,
// served over HTTP (--listen), written for node_exporter's textfile
// collector (--textfile) or printed once (--once).

#include <iosfwd>
#include <string>

namespace headroom::cli {

inline constexpr const char* kDefaultListen = "127.0.0.1:9464";
inline constexpr const char* kTextfileName = "headroom.prom";

struct ExportOptions {
    std::string listen = kDefaultListen;
    std::string textfileDir;   // --textfile DIR: write DIR/headroom.prom
    double everySeconds = 0.0; // with --textfile: rewrite it this often; 0: once
    bool once = false;         // print to stdout and exit
};

int runExport(const ExportOptions& options, const std::string& programName, std::ostream& out,
              std::ostream& err);

} // namespace headroom::cli
