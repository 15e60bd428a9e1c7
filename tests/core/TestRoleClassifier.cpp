// SPDX-License-Identifier: GPL-3.0-or-later
#include "headroom/RoleClassifier.h"

#include <QtTest>

using namespace headroom;

namespace {
ProcessSample proc(Pid pid, Pid parent, std::string comm, std::string exe = {},
                   std::vector<std::string> argv = {})
{
    ProcessSample p;
    p.key = {pid, std::uint64_t(pid) * 10};
    p.parentPid = parent;
    p.name = std::move(comm);
    p.exe = std::move(exe);
    p.argv = std::move(argv);
    return p;
}
} // namespace

Q_DECLARE_METATYPE(headroom::ProcessRole)

class TestRoleClassifier : public QObject {
    Q_OBJECT

  private slots:
    void intrinsic_data()
    {
        QTest::addColumn<QString>("comm");
        QTest::addColumn<QString>("exe");
        QTest::addColumn<QString>("argv0");
        QTest::addColumn<ProcessRole>("role");
        QTest::newRow("cargo via rustup") << "cargo"
                                          << "/home/u/.rustup/toolchains/x/bin/cargo"
                                          << "cargo" << ProcessRole::Cargo;
        QTest::newRow("cargo.exe") << "cargo.exe"
                                   << "C:\\Users\\u\\.cargo\\bin\\cargo.exe"
                                   << "" << ProcessRole::Cargo;
        QTest::newRow("cargo-clippy") << "cargo-clippy"
                                      << "/x/cargo-clippy"
                                      << "" << ProcessRole::Cargo;
        QTest::newRow("rustc") << "rustc"
                               << "/usr/bin/rustc"
                               << "rustc" << ProcessRole::Rustc;
        QTest::newRow("rustdoc") << "rustdoc"
                                 << ""
                                 << "rustdoc" << ProcessRole::Rustc;
        QTest::newRow("clippy-driver") << "clippy-driver"
                                       << ""
                                       << "" << ProcessRole::Rustc;
        QTest::newRow("build script, comm cut to 15") << "build-script-bu"
                                                      << "/p/target/debug/build/foo-1/build-script-build"
                                                      << "" << ProcessRole::BuildScript;
        QTest::newRow("build script by comm only") << "build-script-bu"
                                                   << ""
                                                   << "" << ProcessRole::BuildScript;
        QTest::newRow("ld") << "ld"
                            << "/usr/bin/ld"
                            << "" << ProcessRole::Linker;
        QTest::newRow("ld.gold") << "ld.gold"
                                 << "/usr/bin/x86_64-linux-gnu-ld.gold"
                                 << "" << ProcessRole::Linker;
        QTest::newRow("ld.lld") << "ld.lld"
                                << "/usr/bin/ld.lld-14"
                                << "" << ProcessRole::Linker;
        QTest::newRow("mold") << "mold"
                              << "/usr/bin/mold"
                              << "" << ProcessRole::Linker;
        QTest::newRow("collect2") << "collect2"
                                  << "/usr/libexec/gcc/x86_64-linux-gnu/12/collect2"
                                  << "" << ProcessRole::Linker;
        QTest::newRow("link.exe") << "link.exe"
                                  << "C:\\VS\\bin\\link.exe"
                                  << "" << ProcessRole::Linker;
        QTest::newRow("gcc-12 with triple") << "x86_64-linux-gn"
                                            << "/usr/bin/x86_64-linux-gnu-gcc-12"
                                            << "cc" << ProcessRole::Compiler;
        QTest::newRow("clang++-14") << "clang++-14"
                                    << "/usr/lib/llvm-14/bin/clang++-14"
                                    << "" << ProcessRole::Compiler;
        QTest::newRow("cc1plus") << "cc1plus"
                                 << "/usr/libexec/gcc/x86_64-linux-gnu/12/cc1plus"
                                 << "" << ProcessRole::Compiler;
        QTest::newRow("test binary in deps") << "mycrate-0123456"
                                             << "/w/target/debug/deps/mycrate-0123456789abcdef"
                                             << "" << ProcessRole::Test;
        QTest::newRow("test binary, custom target dir") << "t-0123456789ab"
                                                        << "/tmp/tgt/release/deps/t-0123456789abcdef"
                                                        << "" << ProcessRole::Test;
        QTest::newRow("proc macro .so is not a test") << "x"
                                                      << "/w/target/debug/deps/libfoo-0123456789abcdef.so"
                                                      << "" << ProcessRole::Other;
        QTest::newRow("nextest") << "cargo-nextest"
                                 << "/x/cargo-nextest"
                                 << "" << ProcessRole::Test;
        QTest::newRow("pytest") << "pytest"
                                << ""
                                << "pytest" << ProcessRole::Test;
        QTest::newRow("make") << "make"
                              << "/usr/bin/make"
                              << "make" << ProcessRole::BuildTool;
        QTest::newRow("ninja") << "ninja"
                               << "/usr/bin/ninja"
                               << "" << ProcessRole::BuildTool;
        QTest::newRow("firefox") << "firefox-esr"
                                 << "/usr/lib/firefox-esr/firefox-esr"
                                 << "" << ProcessRole::Other;
        QTest::newRow("bash") << "bash"
                              << "/usr/bin/bash"
                              << "bash" << ProcessRole::Other;
        QTest::newRow("a file merely named like a tool") << "ldconfig"
                                                         << "/sbin/ldconfig"
                                                         << "" << ProcessRole::Other;
        QTest::newRow("cargo-like prefix") << "cargonaut"
                                           << "/x/cargonaut"
                                           << "" << ProcessRole::Other;
    }

    void intrinsic()
    {
        QFETCH(QString, comm);
        QFETCH(QString, exe);
        QFETCH(QString, argv0);
        QFETCH(ProcessRole, role);
        std::vector<std::string> argv;
        if (!argv0.isEmpty())
            argv.push_back(argv0.toStdString());
        const auto p = proc(10, 1, comm.toStdString(), exe.toStdString(), argv);
        QCOMPARE(RoleClassifier().intrinsicRole(p), role);
    }

    void cmakeOnlyWithBuild()
    {
        RoleClassifier c;
        QCOMPARE(c.intrinsicRole(proc(5, 1, "cmake", "/usr/bin/cmake", {"cmake", "--build", "build"})),
                 ProcessRole::BuildTool);
        QCOMPARE(c.intrinsicRole(proc(5, 1, "cmake", "/usr/bin/cmake", {"cmake", "-S", ".", "-B", "b"})),
                 ProcessRole::Other);
    }

    void kernelThreadIsNeverABuild()
    {
        auto p = proc(5, 2, "cargo");
        p.kernelThread = true;
        QCOMPARE(RoleClassifier().intrinsicRole(p), ProcessRole::Other);
    }

    void configurableLists()
    {
        ClassifierOptions options;
        options.testRunners = {"my-runner"};
        options.extraLinkers = {"sold"};
        RoleClassifier c(options);
        QCOMPARE(c.intrinsicRole(proc(5, 1, "my-runner")), ProcessRole::Test);
        QCOMPARE(c.intrinsicRole(proc(5, 1, "pytest")), ProcessRole::Other);       // replaced list
        QCOMPARE(c.intrinsicRole(proc(5, 1, "cargo-nextest")), ProcessRole::Test); // always
        QCOMPARE(c.intrinsicRole(proc(5, 1, "sold")), ProcessRole::Linker);
    }

    void contextFromParents()
    {
        std::vector<ProcessSample> table = {
            proc(10, 1, "cargo", "/x/cargo"),
            proc(11, 10, "rustc", "/x/rustc"),
            proc(12, 11, "cc", "/usr/bin/cc"), // rustc's link driver
            proc(13, 10, "cc", "/usr/bin/cc"), // a build script's compiler: stays a compiler
            proc(20, 1, "cargo-nextest", "/x/cargo-nextest"),
            proc(21, 20, "helper", "/x/helper"),
            proc(22, 21, "sh", "/bin/sh"),
            proc(23, 20, "cargo", "/x/cargo"), // nextest building: still cargo
            proc(30, 1, "sh", "/bin/sh"),
        };
        // A parent cycle must not hang the classifier.
        table.push_back(proc(40, 41, "a"));
        table.push_back(proc(41, 40, "b"));
        RoleClassifier().classify(table);
        QCOMPARE(table[2].role, ProcessRole::Linker);
        QCOMPARE(table[3].role, ProcessRole::Compiler);
        QCOMPARE(table[5].role, ProcessRole::Test);
        QCOMPARE(table[6].role, ProcessRole::Test);
        QCOMPARE(table[7].role, ProcessRole::Cargo);
        QCOMPARE(table[8].role, ProcessRole::Other);
        QCOMPARE(table[9].role, ProcessRole::Other);
    }

    void roleIdsRoundTrip()
    {
        for (ProcessRole role : kAllRoles)
            QCOMPARE(roleFromId(roleId(role)).value(), role);
        QVERIFY(!roleFromId("nonsense"));
        QCOMPARE(roleNoun(ProcessRole::Test, true), std::string_view("test processes"));
    }
};

QTEST_GUILESS_MAIN(TestRoleClassifier)
#include "TestRoleClassifier.moc"
