#pragma once

// A real cargo workspace written by the test: a library with a feature, an
// example, no dependencies, and a build script that takes a moment, so the
// running cargo can be inspected. Builds with `cargo build --offline`.

#include <QDir>
#include <QFile>
#include <QString>
#include <QTemporaryDir>

class CargoWorkspace {
  public:
    explicit CargoWorkspace(int buildScriptMs = 1500)
    {
        const QString root = dir_.path() + "/demo ws";
        QDir().mkpath(root + "/src");
        QDir().mkpath(root + "/examples");
        write(root + "/Cargo.toml", "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
                                    "build = \"build.rs\"\n\n[features]\nfast = []\n\n[profile.dist-fast]\n"
                                    "inherits = \"release\"\n");
        write(root + "/build.rs",
              QStringLiteral("fn main() { std::thread::sleep(std::time::Duration::from_millis(%1)); }\n")
                  .arg(buildScriptMs)
                  .toUtf8());
        write(root + "/src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
        write(root + "/examples/hello.rs", "fn main() { println!(\"{}\", demo::answer()); }\n");
        root_ = root;
    }

    QString root() const { return root_; }
    QString scratch() const { return dir_.path(); }

    static void write(const QString& path, const QByteArray& text)
    {
        QFile file(path);
        file.open(QIODevice::WriteOnly | QIODevice::Truncate);
        file.write(text);
    }

  private:
    QTemporaryDir dir_;
    QString root_;
};
