// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Reads cargo's JSON messages (--message-format=json-diagnostic-rendered-ansi)
// from a build's standard output as it streams: the compiler's diagnostics
// with their rendered text, the artifacts cargo built, the build scripts it
// ran and whether the build finished. Lines that are not cargo messages (a
// program's own output under `cargo run` or `cargo test`) are handed back as
// they came. Every line is hostile input: a line longer than
// kMaxMessageLine, one nested too deep, or one that is not valid JSON (or not
// valid UTF-8) is never a message, and the ones that looked like one are
// counted in a note. An invalid one is still shown, as output; one too long
// is left out with a line saying so.

#include "headroom/CargoOutput.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

struct CargoTarget {
    std::string name;               // "demo", "hello"
    std::vector<std::string> kinds; // "lib", "bin", "example", "test", "custom-build", ...
    bool is(std::string_view kind) const;
};

struct CargoDiagnostic {
    std::string level;    // "error", "warning", "note", "failure-note", "error: internal compiler error"
    std::string message;  // "mismatched types"
    std::string code;     // "E0308", "unused_variables"; empty when none
    std::string rendered; // as rustc prints it on a terminal, ANSI colours included
    std::string location; // the primary span: "src/main.rs:3:18"; empty when none
    std::string packageId;
    CargoTarget target;

    bool isError() const; // "error" or an internal compiler error
    // "error[E0308]: mismatched types", as the rendered text's first line says it.
    std::string headline() const;
};

struct CargoArtifact {
    std::string packageId;
    CargoTarget target;
    std::vector<std::string> filenames;
    std::string executable; // empty for a library
    bool fresh = false;     // up to date: not rebuilt this time
};

struct CargoBuildScript {
    std::string packageId;
    std::string outDir;
};

// "demo" from "path+file:///tmp/ws#demo@0.1.0", "registry+...#serde@1.0.1",
// "path+file:///tmp/demo#0.1.0" or the older "demo 0.1.0 (path+file:///tmp/ws)".
std::string packageNameOf(std::string_view packageId);

class CargoMessageParser {
  public:
    // Longer lines are never parsed: cargo's own are far shorter.
    static constexpr std::size_t kMaxMessageLine = 4u << 20;
    // Objects and arrays deeper than this are not cargo's either.
    static constexpr int kMaxDepth = 64;
    // At most this many diagnostics, artifacts and build scripts are kept (all are counted).
    static constexpr std::size_t kMaxKept = 2000;

    struct Text {
        std::string log;   // what a terminal would show: rendered diagnostics and everything else
        std::string other; // only the lines that were not cargo messages, for the text reader
    };

    // Feeds a chunk of standard output as it arrives (it may end mid-line).
    // Both texts hold whole lines only, each ending in '\n'.
    Text feed(std::string_view chunk);
    // The stream ended: a partial last line is handled as a whole one.
    Text finish();

    const std::vector<CargoDiagnostic>& diagnostics() const { return diagnostics_; }
    const std::vector<CargoArtifact>& artifacts() const { return artifacts_; }
    const std::vector<CargoBuildScript>& buildScripts() const { return buildScripts_; }
    // The first diagnostic at level error, if any.
    const CargoDiagnostic* firstError() const;
    unsigned errorCount() const { return errors_; }
    unsigned warningCount() const { return warnings_; }
    // "build-finished": whether cargo said the build succeeded.
    std::optional<bool> buildFinished() const { return buildFinished_; }
    // Any valid cargo message seen: then the artifacts list is cargo's word.
    bool sawMessages() const { return messages_ > 0; }
    std::size_t messageCount() const { return messages_; }
    // A compiler or linker killed by signal 9, as a rendered diagnostic says.
    const std::vector<KilledProcessInfo>& killed() const { return killed_; }

    // Lines that began like a message but were not one.
    std::size_t ignoredLines() const { return tooLong_ + malformed_; }
    std::size_t tooLongLines() const { return tooLong_; }
    std::size_t malformedLines() const { return malformed_; }
    // "2 lines that looked like cargo messages were not read as messages: 1 not a
    // valid message, 1 longer than 4 MiB." (the first kind is still shown as output).
    // Empty when none were.
    std::string ignoredNote() const;

    // The artifact of the target `name` of kind `kind` ("bin", "example"),
    // the last one reported; null when cargo reported none.
    const CargoArtifact* artifactOf(std::string_view kind, std::string_view name) const;

  private:
    void line(std::string_view text, Text& out);
    bool message(std::string_view text, Text& out); // false: not a cargo message

    std::string partial_;
    bool overflow_ = false;  // the current message line passed kMaxMessageLine: dropped
    bool continued_ = false; // the current line of other output was already shown in part
    std::vector<CargoDiagnostic> diagnostics_;
    std::optional<std::size_t> firstError_;
    std::vector<CargoArtifact> artifacts_;
    std::vector<CargoBuildScript> buildScripts_;
    std::vector<KilledProcessInfo> killed_;
    std::optional<bool> buildFinished_;
    unsigned errors_ = 0;
    unsigned warnings_ = 0;
    std::size_t messages_ = 0;
    std::size_t tooLong_ = 0;
    std::size_t malformed_ = 0;
};

} // namespace headroom
