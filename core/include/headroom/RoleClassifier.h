#pragma once

#include "headroom/Process.h"
#include "headroom/ProcessRole.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

struct ClassifierOptions {
    // Programs (base names) that run tests; they and their children count as
    // tests. cargo-nextest is always one.
    std::vector<std::string> testRunners = {"cargo-nextest", "ctest",  "pytest", "py.test",
                                            "jest",          "vitest", "prove"};
    // Extra base names per role, added to the built-in ones.
    std::vector<std::string> extraLinkers;
    std::vector<std::string> extraCompilers;
};

// Decides what each process is doing for a build. Pure logic: no OS calls.
class RoleClassifier {
  public:
    explicit RoleClassifier(ClassifierOptions options = {});

    // Role from the process's own names and paths only.
    ProcessRole intrinsicRole(const ProcessSample& process) const;

    // Roles for a whole table, using parents: the children of a test runner
    // are tests, a C driver that rustc runs is its linker.
    void classify(std::vector<ProcessSample>& processes) const;
    // The same, taking each process's intrinsic role from `intrinsic` (a
    // cache of intrinsicRole(), since names rarely change between polls).
    void classify(std::vector<ProcessSample>& processes,
                  const std::function<ProcessRole(const ProcessSample&)>& intrinsic) const;

    // True for the processes that root a build tree (cargo, make, ninja, cmake --build).
    static bool isBuildToolRoot(const ProcessSample& process);

    const ClassifierOptions& options() const { return options_; }

  private:
    ClassifierOptions options_;
};

// The base name of a path, without a Windows ".exe" suffix.
std::string_view programBaseName(std::string_view path);

} // namespace headroom
