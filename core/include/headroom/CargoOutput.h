#pragma once

// Reads cargo's and rustc's terminal output as it streams, for progress, the
// first error and the signs of a process killed for memory.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// Removes ANSI escape sequences (colours, cursor moves, erase-line).
std::string stripAnsi(std::string_view text);

struct CargoProgress {
    unsigned done = 0;
    unsigned total = 0;
    std::vector<std::string> compilingNow; // crate names after "N/M: "
};

struct CompileErrorInfo {
    std::string headline; // "error[E0308]: mismatched types"
    std::string location; // "src/main.rs:3:5", empty when not given
};

struct KilledProcessInfo {
    std::string what;  // "rustc --crate-name pyphi" or "linker (ld)"
    std::string crate; // from --crate-name, when known
    bool linker = false;
    std::string line; // the line that said so
};

class CargoOutputParser {
  public:
    // Feeds a chunk of output as it arrives (may end mid-line; "\r" redraws
    // of the progress bar count as line ends).
    void feed(std::string_view chunk);
    // Feeds the rest of a partial line at the end of the stream.
    void finish();
    // Feeds whole lines from a second stream (the lines of standard output
    // that were not cargo messages) without disturbing a partial line of the
    // first: each '\n'-ended line is read on its own.
    void feedLines(std::string_view lines);

    const std::optional<CargoProgress>& progress() const { return progress_; }
    const std::optional<CompileErrorInfo>& firstError() const { return firstError_; }
    const std::vector<KilledProcessInfo>& killed() const { return killed_; }
    bool waitingForLock() const { return waitingForLock_; }
    bool finished() const { return finished_; }
    unsigned compiledCount() const { return compiled_; }
    // Complete lines seen so far, progress redraws left out.
    std::size_t lineCount() const { return lineCount_; }
    // Number (0-based, counted like lineCount) of the first error line, if any.
    std::optional<std::size_t> firstErrorLine() const { return firstErrorLine_; }

  private:
    void line(std::string_view text);

    std::string partial_;
    std::optional<CargoProgress> progress_;
    std::optional<CompileErrorInfo> firstError_;
    std::optional<std::size_t> firstErrorLine_;
    bool awaitingLocation_ = false;
    std::vector<KilledProcessInfo> killed_;
    bool waitingForLock_ = false;
    bool finished_ = false;
    unsigned compiled_ = 0;
    std::size_t lineCount_ = 0;
};

// The compiler, linker or build script that a line says was killed by
// signal 9 ("process didn't exit successfully: `rustc --crate-name x ...`
// (signal: 9, SIGKILL: kill)", "ld terminated with signal 9"), if it says so.
std::optional<KilledProcessInfo> killedProcessIn(std::string_view line);

// Parses one "Building [=====>   ] 12/140: foo, bar(build)" line.
std::optional<CargoProgress> parseProgressLine(std::string_view line);

} // namespace headroom
