// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/CachedTextDelegate.h"

#include <QApplication>
#include <QPainter>

namespace headroom::ui {

CachedTextDelegate::CachedTextDelegate(QObject* parent) : QStyledItemDelegate(parent)
{
    cache_.setMaxCost(kMaxCachedTexts);
}

void CachedTextDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                               const QModelIndex& index) const
{
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QWidget* widget = opt.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();

    // Background, selection, focus and icon as the style draws them; the text ourselves.
    const QString text = opt.text;
    opt.text.clear();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);
    if (text.isEmpty())
        return;
    // Asked with the text still set, the style measures (and so shapes) it
    // just to place it; without it the rect is the same free space.
    QRect textRect = style->subElementRect(QStyle::SE_ItemViewItemText, &opt, widget);
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, widget) + 1;
    textRect.adjust(margin, 0, -margin, 0);
    if (textRect.width() <= 0)
        return;

    // The views use one font family; size and weight tell their fonts apart.
    const QString key = QString::number(textRect.width()) + QLatin1Char('\x1f') +
                        QString::number(opt.font.pointSizeF()) + QLatin1Char('\x1f') +
                        QString::number(opt.font.weight()) + QLatin1Char('\x1f') + text;
    QStaticText* laidOut = cache_.object(key);
    if (!laidOut) {
        QString shown = text;
        shown.replace(QLatin1Char('\n'), QChar::LineSeparator);
        shown = opt.fontMetrics.elidedText(shown, opt.textElideMode, textRect.width());
        laidOut = new QStaticText(shown);
        laidOut->setTextFormat(Qt::PlainText);
        laidOut->setPerformanceHint(QStaticText::AggressiveCaching);
        laidOut->prepare(QTransform(), opt.font);
        cache_.insert(key, laidOut);
    }

    const QPalette::ColorGroup group = !(opt.state & QStyle::State_Enabled) ? QPalette::Disabled
                                       : (opt.state & QStyle::State_Active) ? QPalette::Normal
                                                                            : QPalette::Inactive;
    const bool selected = opt.state & QStyle::State_Selected;
    painter->save();
    painter->setFont(opt.font);
    painter->setPen(opt.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text));
    const QSizeF size = laidOut->size();
    qreal x = textRect.left();
    if (opt.displayAlignment & Qt::AlignRight)
        x = textRect.right() + 1 - size.width();
    else if (opt.displayAlignment & Qt::AlignHCenter)
        x = textRect.left() + (textRect.width() - size.width()) / 2;
    const qreal y = textRect.top() + (textRect.height() - size.height()) / 2;
    painter->setClipRect(textRect);
    painter->drawStaticText(QPointF(x, y), *laidOut);
    painter->restore();
}

} // namespace headroom::ui
