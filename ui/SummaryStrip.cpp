// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/SummaryStrip.h"

#include "headroom/SafeText.h"
#include "headroom/Units.h"
#include "ui/DashboardColors.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QStringList>
#include <QVBoxLayout>

namespace headroom::ui {
namespace {

QString bytes(std::uint64_t value)
{
    return QString::fromStdString(formatBytes(value));
}

// "11.2 / 31.0 GiB" reads better than "11.2 GiB / 31.0 GiB" in a large font.
QString usedOfTotal(std::uint64_t used, std::uint64_t total)
{
    const QString usedText = bytes(used);
    const QString totalText = bytes(total);
    const QString unit = totalText.section(QLatin1Char(' '), 1);
    if (!unit.isEmpty() && usedText.section(QLatin1Char(' '), 1) == unit)
        return usedText.section(QLatin1Char(' '), 0, 0) + QStringLiteral(" / ") + totalText;
    return usedText + QStringLiteral(" / ") + totalText;
}

} // namespace

SummaryStrip::SummaryStrip(QWidget* parent) : QFrame(parent)
{
    setObjectName(QStringLiteral("summaryStrip"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(8);

    ram_ = makeTile(QStringLiteral("ram"), tr("RAM used"));
    ramBar_ = new QProgressBar(ram_.frame);
    ramBar_->setObjectName(QStringLiteral("ramBar"));
    ramBar_->setRange(0, 1000);
    ramBar_->setTextVisible(false);
    ramBar_->setFixedHeight(6);
    ram_.frame->layout()->addWidget(ramBar_);
    available_ = makeTile(QStringLiteral("available"), tr("Available"));
    swap_ = makeTile(QStringLiteral("swap"), tr("Swap used"));
    pressureTile_ = makeTile(QStringLiteral("pressure"), tr("Memory pressure (avg10)"));
    level_ = makeTile(QStringLiteral("level"), tr("Level"));

    layout->addWidget(ram_.frame, 3);
    layout->addWidget(available_.frame, 2);
    layout->addWidget(swap_.frame, 2);
    layout->addWidget(pressureTile_.frame, 3);
    layout->addWidget(level_.frame, 3);

    clear(tr("waiting for the first sample"));
}

void SummaryStrip::clear(const QString& why)
{
    hasData_ = false;
    hasLevel_ = false;
    pressure_ = {};
    budget_ = {};
    last_ = {};
    for (Tile* tile : {&ram_, &available_, &swap_, &pressureTile_, &level_}) {
        tile->value->setText(QStringLiteral("—"));
        tile->detail->clear();
    }
    available_.frame->setToolTip(QString());
    ramBar_->setValue(0);
    level_.detail->setText(why);
    applyLevelStyle();
}

SummaryStrip::Tile SummaryStrip::makeTile(const QString& name, const QString& title)
{
    Tile tile;
    tile.frame = new QFrame(this);
    tile.frame->setObjectName(name + QStringLiteral("Tile"));
    tile.frame->setFrameShape(QFrame::StyledPanel);
    tile.frame->setAutoFillBackground(true);
    auto* column = new QVBoxLayout(tile.frame);
    column->setContentsMargins(10, 6, 10, 6);
    column->setSpacing(1);

    tile.title = new QLabel(title, tile.frame);
    tile.title->setObjectName(name + QStringLiteral("Title"));
    QFont small = tile.title->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    tile.title->setFont(small);
    tile.title->setForegroundRole(QPalette::PlaceholderText);

    tile.value = new QLabel(tile.frame);
    tile.value->setObjectName(name + QStringLiteral("Value"));
    QFont big = tile.value->font();
    big.setPointSizeF(big.pointSizeF() * 1.7);
    big.setBold(true);
    tile.value->setFont(big);
    tile.value->setTextInteractionFlags(Qt::TextSelectableByMouse);

    tile.detail = new QLabel(tile.frame);
    tile.detail->setObjectName(name + QStringLiteral("Detail"));
    tile.detail->setFont(small);
    tile.detail->setForegroundRole(QPalette::PlaceholderText);

    column->addWidget(tile.title);
    column->addWidget(tile.value);
    column->addWidget(tile.detail);
    column->addStretch(1);
    return tile;
}

void SummaryStrip::showMemory(const MemoryStatus& memory, const MemoryBudget& budget)
{
    last_ = memory;
    budget_ = budget;
    hasData_ = true;

    ram_.value->setText(usedOfTotal(memory.used, memory.total));
    // A remote machine's exporter sends no cache figure: none is said rather than "0 B".
    ram_.detail->setText(memory.cache > 0 ? tr("%1 % used · %2 cache")
                                                .arg(memory.usedFraction() * 100.0, 0, 'f', 0)
                                                .arg(bytes(memory.cache))
                                          : tr("%1 % used").arg(memory.usedFraction() * 100.0, 0, 'f', 0));
    ramBar_->setValue(static_cast<int>(memory.usedFraction() * 1000.0));

    if (budget.isCgroup()) {
        // MemAvailable inside a container is the host's: the limit is what kills.
        const QString words = QString::fromStdString(budget.describe());
        available_.value->setText(bytes(budget.availableBytes));
        available_.detail->setText(tr("of the %1").arg(words));
        QStringList tip;
        tip << tr("%1 left of the %2 (%3 % of it)")
                   .arg(bytes(budget.availableBytes), words)
                   .arg(budget.availableFraction() * 100.0, 0, 'f', 0)
            << tr("The machine has %1 available").arg(bytes(budget.systemAvailableBytes));
        if (!budget.cgroupDir.empty())
            tip << tr("Set by %1").arg(QString::fromStdString(safeText(budget.cgroupDir, 256)));
        // Rich text on purpose, so a cgroup's name can never be read as markup.
        for (QString& line : tip)
            line = line.toHtmlEscaped();
        available_.frame->setToolTip(QStringLiteral("<p style='white-space:pre'>") +
                                     tip.join(QStringLiteral("<br>")) + QStringLiteral("</p>"));
    } else {
        available_.value->setText(bytes(memory.available));
        if (memory.swapTotal > 0)
            available_.detail->setText(tr("%1 % of RAM · +%2 free swap")
                                           .arg(memory.availableFraction() * 100.0, 0, 'f', 0)
                                           .arg(bytes(memory.swapFree)));
        else
            available_.detail->setText(tr("%1 % of RAM").arg(memory.availableFraction() * 100.0, 0, 'f', 0));
        available_.frame->setToolTip(QString());
    }

    if (memory.swapTotal == 0) {
        swap_.value->setText(tr("none"));
        swap_.detail->setText(tr("no swap configured"));
    } else {
        swap_.value->setText(usedOfTotal(memory.swapUsed, memory.swapTotal));
        swap_.detail->setText(tr("%1 % used").arg(memory.swapUsedFraction() * 100.0, 0, 'f', 0));
    }

    if (memory.pressure.available) {
        pressureTile_.value->setText(tr("%1 % · %2 %")
                                         .arg(memory.pressure.some.avg10, 0, 'f', 1)
                                         .arg(memory.pressure.full.avg10, 0, 'f', 1));
        pressureTile_.detail->setText(tr("some · full stalled (PSI)"));
    } else if (memory.pressure.kernelLevel != 0) {
        pressureTile_.value->setText(memory.pressure.kernelLevel >= 4   ? tr("critical")
                                     : memory.pressure.kernelLevel >= 2 ? tr("warning")
                                                                        : tr("normal"));
        pressureTile_.detail->setText(tr("as the kernel reports it"));
    } else {
        pressureTile_.value->setText(tr("n/a"));
        pressureTile_.detail->setText(tr("this kernel reports no PSI"));
    }

    updateLevelTile();
}

void SummaryStrip::showPressure(const services::PressureState& state)
{
    pressure_ = state;
    hasLevel_ = true;
    updateLevelTile();
}

QString SummaryStrip::levelDetail() const
{
    return level_.detail->text();
}

void SummaryStrip::updateLevelTile()
{
    if (!hasData_ || !hasLevel_)
        return;
    level_.value->setText(services::levelName(pressure_.level));
    QString detail = pressure_.reason.isEmpty()
                         ? (budget_.isCgroup() ? tr("%1 left of the %2")
                                                     .arg(bytes(budget_.availableBytes),
                                                          QString::fromStdString(budget_.describe()))
                                               : tr("%1 of headroom").arg(bytes(last_.headroom())))
                         : pressure_.reason;
    const QString left = services::describeTimeLeft(pressure_.secondsLeft);
    if (!left.isEmpty())
        detail += QStringLiteral(" · ") + left;
    level_.detail->setText(detail);
    level_.detail->setToolTip(detail);
    applyLevelStyle();
}

void SummaryStrip::applyLevelStyle()
{
    const QPalette base = palette();
    const QColor color = levelColor(pressure_.level, base);
    QPalette tilePalette = level_.frame->palette();
    tilePalette.setColor(QPalette::Window, tint(color, base, hasLevel_ ? 0.22 : 0.0));
    level_.frame->setPalette(tilePalette);
    QPalette valuePalette = level_.value->palette();
    valuePalette.setColor(QPalette::WindowText, hasLevel_ ? color : base.color(QPalette::WindowText));
    level_.value->setPalette(valuePalette);
    level_.detail->setWordWrap(false);
    // The bar under the RAM figure shares the level's colour.
    QPalette barPalette = ramBar_->palette();
    barPalette.setColor(QPalette::Highlight, color);
    ramBar_->setPalette(barPalette);
}

void SummaryStrip::changeEvent(QEvent* event)
{
    QFrame::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        applyLevelStyle();
}

} // namespace headroom::ui
