"""The layer palette: the catalog grouped by category, searchable, a drag source.

Each layer row shows its type in bold and its one-line summary underneath, wrapped to
the width of the panel; the tooltip lists its parameters with their help. Dragging a row
carries `gui.mime.LAYER_MIME`; double-clicking it (or Enter) adds the layer after the
selected node, and selects the new node so that repeated double-clicks build a chain.
"""

from __future__ import annotations

import html

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QResizeEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from engine.document.blocks import BLOCKS_CATEGORY
from engine.document.layout import X_STEP
from engine.layers import LayerSpec, Param, categories
from gui.document import Document
from gui.mime import LAYER_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1  # layer type of a layer row; None on categories
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3  # text the search box matches against
NEXT_TO = X_STEP  # from the selected node to a layer added after it, as auto-layout
ROW_GAP = 100.0  # vertical step when that spot is already taken
PADDING = 4


def describe_param(param: Param) -> str:
    """One tooltip line (HTML) for a parameter: name, default and help."""
    if param.inferred or (param.from_data and param.default is None):
        default = "auto"
    elif param.default is None:
        default = "none"
    elif param.kind == "text":
        default = ""
    else:
        default = str(param.default)
    shown = f" = {html.escape(default)}" if default else ""
    return f"<b>{param.name}</b>{shown}: {html.escape(param.help)}"


def layer_tooltip(spec: LayerSpec) -> str:
    lines = [f"<b>{spec.type}</b>: {html.escape(spec.summary)}"]
    if spec.params:
        lines.append("<br><u>Parameters</u>")
        lines += [describe_param(p) for p in spec.params]
    return "<p>" + "<br>".join(lines) + "</p>"


class LayerModel(QStandardItemModel):
    """Categories with their layers; layer rows are drag sources carrying the type."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        for category, specs in categories().items():
            self.appendRow(self._group(category, specs))

    def set_blocks(self, specs: list[LayerSpec]) -> None:
        """Show the project's block types in a Blocks group at the top (none: no group)."""
        found = self.findItems(BLOCKS_CATEGORY)
        if found:
            self.removeRow(found[0].row())
        if specs:
            self.insertRow(0, self._group(BLOCKS_CATEGORY, specs))

    def _group(self, category: str, specs: list[LayerSpec]) -> QStandardItem:
        group = QStandardItem(category)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = group.font()
        font.setBold(True)
        group.setFont(font)
        group.setData("", SEARCH_ROLE)
        for spec in specs:
            group.appendRow(self._layer_item(spec))
        return group

    @staticmethod
    def _layer_item(spec: LayerSpec) -> QStandardItem:
        item = QStandardItem(spec.type)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        item.setData(spec.type, TYPE_ROLE)
        item.setData(spec.summary, SUMMARY_ROLE)
        item.setData(f"{spec.type}\n{spec.category}\n{spec.summary}", SEARCH_ROLE)
        item.setToolTip(layer_tooltip(spec))
        return item

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData | None:
        types = [i.data(TYPE_ROLE) for i in indexes if i.data(TYPE_ROLE)]
        if not types:
            return None
        mime = QMimeData()
        mime.setData(LAYER_MIME, types[0].encode("utf-8"))
        return mime


class LayerDelegate(QStyledItemDelegate):
    """Paints a layer row as its type in bold over its summary, wrapped to the width.

    Item views do not tell `sizeHint` the column width, so the delegate asks the view;
    `PaletteView` lays its rows out again when its width changes.
    """

    def __init__(self, view: QTreeView):
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        if not index.data(TYPE_ROLE):
            return super().sizeHint(option, index)
        title, summary = _fonts(option.font)
        width = self._text_width(index)
        wrapped = QFontMetrics(summary).boundingRect(
            QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, index.data(SUMMARY_ROLE)
        )
        height = QFontMetrics(title).height() + wrapped.height() + 2 * PADDING
        return QSize(width, height)

    def _text_width(self, index: QModelIndex) -> int:
        depth = 0
        parent = index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        indent = self._view.indentation() * (depth + int(self._view.rootIsDecorated()))
        return max(80, self._view.viewport().width() - indent - 2 * PADDING)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if not index.data(TYPE_ROLE):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""  # the style draws background, selection and focus; we draw the text
        self._view.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        summary_role = text_role if selected else QPalette.ColorRole.PlaceholderText
        title_font, summary_font = _fonts(opt.font)
        rect = opt.rect.adjusted(PADDING, PADDING, -PADDING, -PADDING)
        painter.save()
        painter.setPen(opt.palette.color(text_role))
        painter.setFont(title_font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignTop, index.data(TYPE_ROLE))
        rect.setTop(rect.top() + QFontMetrics(title_font).height())
        painter.setPen(opt.palette.color(summary_role))
        painter.setFont(summary_font)
        painter.drawText(rect, Qt.TextFlag.TextWordWrap, index.data(SUMMARY_ROLE))
        painter.restore()


def _fonts(base: QFont) -> tuple[QFont, QFont]:
    """The bold title font and the slightly smaller summary font of a layer row."""
    title = QFont(base)
    title.setBold(True)
    summary = QFont(base)
    summary.setPointSizeF(max(7.0, base.pointSizeF() * 0.92))
    return title, summary


class PaletteView(QTreeView):
    """The tree of layers; a drag source. Re-wraps summaries when resized."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("palette")
        self.setHeaderHidden(True)
        self.setIndentation(14)
        self.setUniformRowHeights(False)
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(LayerDelegate(self))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.scheduleDelayedItemsLayout()


class Palette(QWidget):
    """Search box over the layer tree. Adding a layer goes through `document.add_layer`."""

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.search = QLineEdit(self)
        self.search.setObjectName("paletteSearch")
        self.search.setPlaceholderText("Search layers")
        self.search.setClearButtonEnabled(True)
        self.layers = LayerModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.layers)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.view = PaletteView(self)
        self.view.setModel(self.proxy)
        self.view.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.view)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.view.activated.connect(self._add_from_index)
        document.blocks_changed.connect(self.show_blocks)
        document.project_replaced.connect(self.show_blocks)
        self.show_blocks()

    def show_blocks(self) -> None:
        self.layers.set_blocks([block.spec for block in self.document.block_types()])
        self.view.expandAll()

    def set_filter(self, text: str) -> None:
        """Show only layers whose type, category or summary contains `text`."""
        self.proxy.setFilterFixedString(text.strip())
        self.view.expandAll()

    def visible_types(self) -> list[str]:
        """Layer types the tree shows now, top to bottom."""
        found = []
        for row in range(self.proxy.rowCount()):
            group = self.proxy.index(row, 0)
            for child in range(self.proxy.rowCount(group)):
                found.append(self.proxy.index(child, 0, group).data(TYPE_ROLE))
        return found

    def add_layer(self, layer_type: str) -> str | None:
        """Add a layer after the single selected node (wired to it), or in a free spot;
        select it. Returns the new node's id, or None if the document refused."""
        selected = self.document.selected
        anchor = selected[0] if len(selected) == 1 else None
        if anchor not in self.document.graph.nodes:
            anchor = None
        node_id = self.document.add_layer(layer_type, self._free_spot(anchor), wire_from=anchor)
        if node_id is not None:
            self.document.select([node_id])
        return node_id

    def _free_spot(self, anchor: str | None) -> tuple[float, float]:
        nodes = self.document.graph.nodes
        if anchor is not None:
            x, y = nodes[anchor].pos
            x += NEXT_TO
        elif nodes:
            x, y = max((n.pos for n in nodes.values()), key=lambda p: p[0])
            x += NEXT_TO
        else:
            x, y = 0.0, 0.0
        taken = [n.pos for n in nodes.values()]
        while any(abs(px - x) < NEXT_TO / 2 and abs(py - y) < ROW_GAP / 2 for px, py in taken):
            y += ROW_GAP
        return x, y

    def _add_from_index(self, index: QModelIndex | QPersistentModelIndex) -> None:
        layer_type = index.data(TYPE_ROLE)
        if layer_type:
            self.add_layer(layer_type)

    def _add_first_match(self) -> None:
        types = self.visible_types()
        if types and self.search.text().strip():
            self.add_layer(types[0])
