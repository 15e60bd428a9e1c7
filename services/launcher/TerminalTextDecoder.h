// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "headroom/CargoOutput.h"

#include <QByteArray>
#include <QString>
#include <QStringDecoder>

#include <string>
#include <string_view>

namespace headroom::services {

// Turns a child's output, read in chunks of any size, into plain text: UTF-8
// is decoded with state kept across chunks (a character split between two
// reads is not two U+FFFD), and an escape sequence cut by a read is held back
// until it is complete, so no "31m" fragment of a colour reaches the log.
class TerminalTextDecoder {
  public:
    QString decode(std::string_view bytes)
    {
        std::string data = carry_;
        data.append(bytes);
        carry_.clear();
        const std::size_t cut = incompleteEscapeStart(data);
        if (cut != std::string::npos) {
            carry_ = data.substr(cut);
            data.resize(cut);
        }
        const std::string plain = stripAnsi(data);
        return utf8_.decode(QByteArrayView(plain.data(), qsizetype(plain.size())));
    }

    // The output ended: a half sequence or a half character left over is dropped.
    void reset()
    {
        carry_.clear();
        utf8_.resetState();
    }

  private:
    // A sequence longer than this is not a colour or a title: let it go
    // rather than hold output back without bound.
    static constexpr std::size_t kMaxHeld = 4096;

    // Where an escape sequence that the data ends inside begins, or npos.
    static std::size_t incompleteEscapeStart(std::string_view data)
    {
        const std::size_t from = data.size() > kMaxHeld ? data.size() - kMaxHeld : 0;
        const std::size_t esc = data.rfind('\x1b');
        if (esc == std::string_view::npos || esc < from)
            return std::string_view::npos;
        if (esc + 1 >= data.size())
            return esc;
        const char kind = data[esc + 1];
        if (kind == '[') {
            for (std::size_t j = esc + 2; j < data.size(); ++j) {
                if (data[j] >= 0x40 && data[j] <= 0x7E)
                    return std::string_view::npos;
            }
            return esc;
        }
        if (kind == ']') // ends at BEL, or at ESC \ (then the last ESC is that one)
            return data.find('\x07', esc + 2) == std::string_view::npos ? esc : std::string_view::npos;
        return std::string_view::npos;
    }

    QStringDecoder utf8_{QStringDecoder::Utf8};
    std::string carry_;
};

} // namespace headroom::services
