// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/desktop/TrayGauge.h"

#include "ui/DashboardColors.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

#include <algorithm>
#include <cmath>

namespace headroom::app {

int GaugeLook::fillSteps() const
{
    return static_cast<int>(std::lround(std::clamp(usedFraction, 0.0, 1.0) * 32.0));
}

namespace {
const QColor kBody(0x20, 0x24, 0x28, 230);
} // namespace

QColor trayLevelColor(PressureLevel level)
{
    // The dashboard's level colours, as they read on a dark base: the gauge's body.
    QPalette dark;
    dark.setColor(QPalette::Window, kBody);
    return ui::levelColor(level, dark);
}

QImage paintTrayGauge(const GaugeLook& look, int size)
{
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);

    const QColor color = look.hasData ? trayLevelColor(look.level) : QColor(0x9e, 0x9e, 0x9e);
    const double pen = std::max(1.0, size / 12.0);
    const QRectF tank = QRectF(0, 0, size, size)
                            .adjusted(size * 0.12 + pen / 2, pen / 2 + size * 0.04, -size * 0.12 - pen / 2,
                                      -pen / 2 - size * 0.04);
    const double radius = size / 7.0;
    QPainterPath outline;
    outline.addRoundedRect(tank, radius, radius);

    // A dark body keeps the gauge readable on light and dark panels alike.
    p.fillPath(outline, kBody);
    if (look.hasData) {
        const double level = look.fillSteps() / 32.0;
        QRectF fill = tank;
        fill.setTop(tank.bottom() - tank.height() * level);
        p.save();
        p.setClipPath(outline);
        p.fillRect(fill, color);
        p.restore();
    }
    p.setPen(QPen(color, pen));
    p.setBrush(Qt::NoBrush);
    p.drawPath(outline);
    return image;
}

QIcon trayGaugeIcon(const GaugeLook& look)
{
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64})
        icon.addPixmap(QPixmap::fromImage(paintTrayGauge(look, size)));
    return icon;
}

} // namespace headroom::app
