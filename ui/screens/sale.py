"""The sale screen: products as big buttons, the cart, the total in large type, and the camera.

A wallet scan (camera, USB scanner, or a typed short code) pays the cart; the
result fills the window and the cart empties, so the next customer starts at once.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from terminal.decisions import Cart, Decision, DeclineReason
from ui.messages import explain_reason
from ui.screens.base import Screen
from ui.widgets import BigButton, CameraPreview, Keypad, heading

__all__ = ["SaleScreen", "show_decision"]


def show_decision(screen: Screen, decision: Decision, *, ok_key: str = "result.approved") -> None:
    """Fill the result overlay with a sale/refund/top-up decision and play its sound."""
    backend = screen.backend
    overlay = getattr(screen, "overlay", None)
    if decision.kind == "deposit_return" and ok_key == "result.approved":  # cups back: money onto the wallet
        ok_key = "result.deposit_back"
    if decision.approved:
        balance = decision.balance_after
        detail = ""
        if balance is not None:
            # Offline the terminal only knows the last statement it saw and its own sales since: an estimate.
            key = "result.balance_offline" if decision.mode == "offline" else "result.balance"
            detail = screen.tr(key, balance=backend.money(balance))
        change = decision.params.get("change")
        if isinstance(change, int) and change > 0:
            detail = (detail + "\n" if detail else "") + f"{screen.tr('topup.change')}: {backend.money(change)}"
        headline = screen.tr(ok_key, amount=backend.money(decision.amount))
        amount = backend.money(decision.amount) if ok_key == "result.approved" else ""
        backend.sounds.play("approve")
        receipt = ""
        server = backend.terminal.server_url
        if decision.kind == "sale" and decision.record_id and server:  # online or offline: the id is known now
            receipt = f"{server}/my/r/{decision.record_id}"
        if overlay is not None:
            overlay.show_result(approved=True, headline=headline, amount=amount, detail=detail, receipt_url=receipt)
    elif decision.reason in (DeclineReason.TOPUP_IN_DOUBT, DeclineReason.CASHOUT_IN_DOUBT):  # maybe booked
        words = explain_reason(decision.reason, decision.params, currency=backend.currency)
        backend.sounds.play("decline")
        if overlay is not None:
            overlay.show_result(approved=False, in_doubt=True, headline=words.headline,
                                amount=backend.money(decision.amount),
                                detail="" if decision.kind == "cashout" else screen.tr(
                                    "topup.doubt_keep",
                                    cash=backend.money(int(decision.params.get("cash_received", decision.amount)))),
                                next_step=words.next_step)
    else:
        words = explain_reason(decision.reason, decision.params, currency=backend.currency)
        backend.sounds.play("decline")
        if overlay is not None:
            overlay.show_result(approved=False, headline=screen.tr("result.declined"), detail=words.headline,
                                next_step=words.next_step)


def _kind(product: Any) -> str:
    """A product's kind (normal, deposit, discount); a product row of an older catalog is normal."""
    return str(getattr(product, "kind", "normal") or "normal")


def _category(product: Any) -> str:
    """A product's category ("" for none, as for a product row of an older catalog)."""
    return str(getattr(product, "category", "") or "")


def _signed(money: Any, amount: int) -> str:
    """An amount with its sign: money back shows a minus, never a bare number."""
    return f"−{money(-amount)}" if amount < 0 else str(money(amount))


class _CartRow(QWidget):
    """One cart line: name, × qty, price, and − / + keys, one line high at the touch size."""

    def __init__(self, label: str, amount: str, *, on_minus: Any, on_plus: Any | None, qty: int | None = None) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(label)
        self.label.setStyleSheet("font-size: 22px;")
        # A long name is cut at the row's edge rather than wrapped over the next row.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.qty = QLabel("" if qty is None else f"× {qty}")
        self.qty.setStyleSheet("font-size: 22px; font-weight: bold;")
        self.amount = QLabel(amount)
        self.amount.setStyleSheet("font-size: 22px; font-weight: bold;")
        minus = BigButton("−")
        minus.setFixedWidth(72)
        minus.clicked.connect(on_minus)
        row.addWidget(self.label, 1)
        row.addWidget(self.qty)
        row.addWidget(self.amount)
        row.addWidget(minus)
        if on_plus is not None:
            plus = BigButton("+")
            plus.setFixedWidth(72)
            plus.clicked.connect(on_plus)
            row.addWidget(plus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)


class SaleScreen(Screen):
    """Products, cart, total, camera; scans pay."""

    name = "sale"
    paid = Signal(object)  # the Decision, after it is shown

    def __init__(self, backend: Any, parent: QWidget | None = None) -> None:
        """Build the (empty) screen; products arrive with ``set_products``."""
        super().__init__(backend, parent)
        self.products: list[Any] = []
        self.qty: dict[int, int] = {}
        self.free_amount: int | None = None
        self.paying = False
        self.scan_started: float | None = None
        self.product_buttons: dict[int, BigButton] = {}
        self.return_buttons: dict[int, BigButton] = {}  # deposit products: the return (a negative line)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.setSpacing(16)
        left = QVBoxLayout()
        # Category tabs over the buttons, shown when the products have categories (a stall with twenty).
        self.category: str | None = None  # the chosen tab: a category ("" the uncategorised), None every product
        self.category_buttons: dict[str | None, BigButton] = {}
        self.category_host = QWidget()
        self.category_bar = QHBoxLayout(self.category_host)
        self.category_bar.setContentsMargins(0, 0, 0, 0)
        self.category_bar.setSpacing(8)
        self.category_scroll = QScrollArea()
        self.category_scroll.setWidgetResizable(True)
        self.category_scroll.setWidget(self.category_host)
        self.category_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.category_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.category_scroll.setFixedHeight(84)
        self.category_scroll.hide()
        left.addWidget(self.category_scroll)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(12)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left.addWidget(scroll, 1)
        self.free_button = BigButton(role="nav")
        self.free_button.clicked.connect(self._toggle_free_amount)
        left.addWidget(self.free_button)
        self.free_pad_host = QWidget()
        free_box = QVBoxLayout(self.free_pad_host)
        self.free_label = heading("", "hint")
        self.free_keypad = Keypad(max_len=6)
        self.free_keypad.changed.connect(self._free_changed)
        free_box.addWidget(self.free_label)
        free_box.addWidget(self.free_keypad)
        self.free_pad_host.hide()
        left.addWidget(self.free_pad_host)
        outer.addLayout(left, 3)

        right = QVBoxLayout()
        self.preview = CameraPreview()
        self.preview.setMinimumHeight(150)
        right.addWidget(self.preview, 2)
        self.cart_title = heading("", "hint")
        right.addWidget(self.cart_title)
        self.cart_host = QWidget()
        self.cart_box = QVBoxLayout(self.cart_host)
        self.cart_box.setContentsMargins(0, 0, 0, 0)
        self.cart_box.setSpacing(2)
        cart_scroll = QScrollArea()
        cart_scroll.setWidgetResizable(True)
        cart_scroll.setWidget(self.cart_host)
        cart_scroll.setMinimumHeight(120)
        right.addWidget(cart_scroll, 2)
        total_row = QHBoxLayout()
        self.total_caption = heading("", "hint")
        self.total_label = heading("", "total")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        total_row.addWidget(self.total_caption)
        total_row.addWidget(self.total_label, 1)
        right.addLayout(total_row)
        self.hint = heading("", "hint")
        self.hint.setObjectName("sale-hint")
        right.addWidget(self.hint)
        manual_row = QHBoxLayout()
        self.manual_edit = QLineEdit()
        self.manual_edit.returnPressed.connect(self._pay_typed)
        self.manual_button = BigButton(role="primary")
        self.manual_button.clicked.connect(self._pay_typed)
        self.clear_button = BigButton(role="danger")
        self.clear_button.clicked.connect(self.clear_cart)
        for button in (self.manual_button, self.clear_button):  # as wide as their words, the field takes the rest
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        manual_row.addWidget(self.manual_edit, 1)
        manual_row.addWidget(self.manual_button)
        manual_row.addWidget(self.clear_button)
        right.addLayout(manual_row)
        outer.addLayout(right, 2)
        self.retranslate()

    # ------------------------------------------------------------------ catalog and cart
    def set_products(self, products: list[Any]) -> None:
        """Show ``products`` (ProductRow-like: id, name, price, sold_out, stock) as big buttons."""
        self.products = list(products)
        while self.grid.count():
            self.grid.takeAt(0)
        for widget in [*self.product_buttons.values(), *self.return_buttons.values()]:
            # Hide and detach now: deleteLater alone leaves the old row painted until the next loop turn.
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        self.product_buttons.clear()
        self.return_buttons.clear()
        for product in self.products:
            kind = _kind(product)
            button = BigButton(role="product", parent=self.grid_host)
            button.setFixedHeight(120)
            button.setProperty("colour", getattr(product, "colour", None) or "")
            # a discount is only ever taken off: its button adds a negative line
            step = -1 if kind == "discount" else 1
            button.clicked.connect(lambda _=False, pid=product.id, n=step: self.add(pid, n))
            self.product_buttons[product.id] = button
            if kind == "deposit":  # the cup brought back: a negative line of the same product
                back = BigButton(role="product", parent=self.grid_host)
                back.setFixedHeight(120)
                back.setProperty("colour", getattr(product, "colour", None) or "")
                back.setObjectName(f"return-{product.id}")
                back.clicked.connect(lambda _=False, pid=product.id: self.add(pid, -1))
                self.return_buttons[product.id] = back
        self._build_categories()
        self._paint_products()
        self._render_cart()

    # ------------------------------------------------------------------ categories
    def categories(self) -> list[str]:
        """The category tabs in catalog order: each named category, then "" (the rest) if some have none.

        Empty when there is nothing to choose between (no categories, or all in one).
        """
        seen: list[str] = []
        for product in self.products:
            name = _category(product)
            if name not in seen:
                seen.append(name)
        named = [c for c in seen if c]
        tabs = named + ([""] if named and "" in seen else [])
        return tabs if len(tabs) >= 2 else []

    def _build_categories(self) -> None:
        for button in self.category_buttons.values():
            button.hide()
            button.setParent(None)
            button.deleteLater()
        self.category_buttons.clear()
        tabs = self.categories()
        if self.category not in tabs:
            self.category = None
        for key in ([None, *tabs] if tabs else []):
            button = BigButton(role="toggle", parent=self.category_host)
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            button.setObjectName("category-all" if key is None else f"category-{key or 'other'}")
            button.clicked.connect(lambda _=False, k=key: self.choose_category(k))
            self.category_bar.addWidget(button)
            button.show()
            self.category_buttons[key] = button
        self.category_scroll.setVisible(bool(tabs))
        self._retranslate_categories()
        self.choose_category(self.category)

    def _retranslate_categories(self) -> None:
        for key, button in self.category_buttons.items():
            button.setText(self.tr("sale.category_all") if key is None
                           else key or self.tr("sale.category_other"))

    def choose_category(self, key: str | None) -> None:
        """Show the buttons of one category (None: every product); the cart keeps what is in it."""
        self.category = key if key is None or key in self.category_buttons else None
        for tab, button in self.category_buttons.items():
            button.setChecked(tab == self.category)
        while self.grid.count():
            self.grid.takeAt(0)
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        index = 0
        for product in self.products:
            shown = self.category is None or _category(product) == self.category
            for tile in (self.product_buttons.get(product.id), self.return_buttons.get(product.id)):
                if tile is None:
                    continue
                tile.setVisible(shown)  # a visible parent: shown now, not on the next event loop turn
                if shown:
                    self.grid.addWidget(tile, index // 3, index % 3)
                    index += 1
        self.grid.setRowStretch(index // 3 + 1, 1)

    def update_products(self, products: list[Any]) -> None:
        """New stock for the same products: repaint the buttons (a changed catalog is laid out again)."""
        if [p.id for p in products] != [p.id for p in self.products]:
            self.set_products(products)
            return
        self.products = list(products)
        self._paint_products()

    def _left(self, product: Any) -> int | None:
        """How many more of ``product`` can go in the cart (None: not counted)."""
        if product.stock is None:
            return None
        return max(0, int(product.stock) - self.qty.get(product.id, 0))

    def _sold_out(self, product: Any) -> bool:
        return bool(product.sold_out) or (product.stock is not None and product.stock <= 0)

    def _paint_products(self) -> None:
        for product in self.products:
            button = self.product_buttons[product.id]
            sold_out = self._sold_out(product)
            price = self.backend.money(product.price)
            text = f"{product.name}\n{price}"
            left = self._left(product)
            if sold_out:
                text += f"\n✗ {self.tr('sale.sold_out')}"
            elif left is not None:
                text += f"\n{self.tr('sale.left', n=left)}"
            button.setText(text)
            if _kind(product) == "discount":
                text = f"{product.name}\n−{price}"
            button.setText(text)
            button.setEnabled(not sold_out)
            button.setProperty("soldout", "true" if sold_out else "false")
            button.restyle()
            back = self.return_buttons.get(product.id)
            if back is not None:
                back.setText(f"{self.tr('sale.return')}\n{product.name}\n−{price}")
                back.setEnabled(not sold_out)
        self.free_button.setVisible(self.backend.terminal.allow_free_amount)

    def _product(self, product_id: int) -> Any | None:
        return next((p for p in self.products if p.id == product_id), None)

    def add(self, product_id: int, qty: int = 1) -> None:
        """Add ``qty`` of a product to the cart (a sold-out product is refused)."""
        self._dismiss_result()
        product = self._product(product_id)
        if product is None or self._sold_out(product):
            return
        self.free_amount = None
        self.free_pad_host.hide()
        new = self.qty.get(product_id, 0) + qty
        if product.stock is not None and qty > 0 and new > product.stock:
            self.hint.setText(self.tr("sale.no_more", name=product.name, n=max(0, int(product.stock))))
            return
        kind = _kind(product)
        # a normal product is never below zero, a discount never above; a deposit either way (taken, returned)
        if new == 0 or (kind == "normal" and new < 0) or (kind == "discount" and new > 0):
            self.qty.pop(product_id, None)
        else:
            self.qty[product_id] = max(-99, min(new, 99))
        self._render_cart()

    def clear_cart(self) -> None:
        """Empty the cart."""
        self.qty.clear()
        self.free_amount = None
        self.free_keypad.set_text("")
        self.free_pad_host.hide()
        self._render_cart()

    def cart(self) -> Cart:
        """Return the engine's cart for what is on screen."""
        if self.free_amount is not None:
            return Cart.amount(self.free_amount)
        return Cart.of([(pid, q) for pid, q in self.qty.items()])

    def returns_only(self) -> bool:
        """True when the cart holds only cups brought back (deposit returns): it pays the deposits out."""
        if self.free_amount is not None or not self.qty:
            return False
        kinds = {p.id: _kind(p) for p in self.products}
        return all(q < 0 and kinds.get(pid) == "deposit" for pid, q in self.qty.items())

    def total(self) -> int:
        """Return the cart's total in minor units."""
        if self.free_amount is not None:
            return self.free_amount
        return sum(p.price * self.qty.get(p.id, 0) for p in self.products)

    def _toggle_free_amount(self) -> None:
        self._dismiss_result()
        showing = not self.free_pad_host.isVisible()
        self.free_pad_host.setVisible(showing)
        if showing:
            self.qty.clear()
            self.free_keypad.set_text("")
        else:
            self.free_amount = None
        self._render_cart()

    def _free_changed(self, text: str) -> None:
        self.free_amount = int(text) if text else None
        if self.free_amount == 0:
            self.free_amount = None
        self._render_cart()

    def _render_cart(self) -> None:
        if any(p.stock is not None for p in self.products):
            self._paint_products()  # "N left" follows the cart
        while self.cart_box.count():
            item = self.cart_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                # Hide and detach now: deleteLater alone leaves the old row painted until the next loop turn.
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        if self.free_amount is not None:
            row = _CartRow(self.tr("sale.free_line"), self.backend.money(self.free_amount),
                           on_minus=self.clear_cart, on_plus=None)
            self.cart_box.addWidget(row)
            row.show()
        for product in self.products:
            qty = self.qty.get(product.id, 0)
            if not qty:
                continue
            sign = 1 if qty > 0 else -1  # − and + take from and add to the line, whichever its sign
            label = product.name
            if qty < 0:
                label = f"{self.tr('sale.return')}: {product.name}" if _kind(product) == "deposit" else \
                    f"{self.tr('sale.discount')}: {product.name}"
            row = _CartRow(label, _signed(self.backend.money, product.price * qty), qty=abs(qty),
                           on_minus=lambda _=False, pid=product.id, n=-sign: self.add(pid, n),
                           on_plus=lambda _=False, pid=product.id, n=sign: self.add(pid, n))
            if qty < 0:  # money back: shown apart, in its own colour
                row.setObjectName("cart-negative")
                for part in (row.label, row.qty, row.amount):
                    part.setStyleSheet(part.styleSheet() + " color: #b3261e;")
            self.cart_box.addWidget(row)
            row.show()
        self.cart_box.addStretch(1)
        total = self.total()
        self.total_label.setText(_signed(self.backend.money, total))
        if self.paying:
            self.hint.setText(self.tr("sale.returning" if self.returns_only() else "sale.paying"))
        elif self.returns_only():
            self.hint.setText(self.tr("sale.scan_to_return", total=self.backend.money(-total)))
        elif total > 0:
            self.hint.setText(self.tr("sale.scan_to_pay", total=self.backend.money(total)))
        elif self.qty:
            self.hint.setText(self.tr("sale.not_negative"))
        else:
            self.hint.setText(self.tr("sale.empty"))

    # ------------------------------------------------------------------ paying
    def on_scan(self, text: str, captured_at: float) -> None:
        """Pay the cart with the wallet shown; ignored while a payment is out or the result shows."""
        overlay = getattr(self, "overlay", None)
        if self.paying or (overlay is not None and overlay.isVisible()):
            return
        if self.total() <= 0 and self.free_amount is None and not self.returns_only():
            self.hint.setText(self.tr("sale.not_negative" if self.qty else "sale.add_first"))
            return
        self.pay(text, captured_at=captured_at)

    def _pay_typed(self) -> None:
        text = self.manual_edit.text().strip()
        if text:
            self.manual_edit.clear()
            self.on_scan(text, time.monotonic())

    def pay(self, wallet_text: str, *, captured_at: float | None = None) -> None:
        """Send the cart and the wallet text to the engine (on the worker)."""
        cart = self.cart()
        self.paying = True
        self.scan_started = captured_at if captured_at is not None else time.monotonic()
        self._render_cart()

        def done(decision: Decision) -> None:
            self.paying = False
            if decision.approved:
                self.clear_cart()
            else:
                self._render_cart()
            show_decision(self, decision)
            self.paid.emit(decision)

        def failed(exc: BaseException) -> None:
            self.paying = False
            self._render_cart()
            self.backend.tasks.report_bug(exc)

        failed.handles_bugs = True  # type: ignore[attr-defined]
        self.backend.run(lambda engine: engine.sell(cart, wallet_text), on_done=done, on_error=failed)

    def _dismiss_result(self) -> None:
        overlay = getattr(self, "overlay", None)
        if overlay is not None:
            overlay.dismiss()

    # ------------------------------------------------------------------ texts
    def retranslate(self) -> None:
        """Set every text in the current language."""
        self.free_button.setText(self.tr("sale.free_amount"))
        self.free_label.setText(self.tr("keypad.amount"))
        self.cart_title.setText(self.tr("sale.cart"))
        self.total_caption.setText(self.tr("sale.total"))
        self.manual_edit.setPlaceholderText(self.tr("sale.manual_title"))
        self.manual_button.setText(self.tr("sale.manual"))
        self.clear_button.setText(self.tr("sale.clear_cart"))
        self._retranslate_categories()
        self._paint_products()
        self._render_cart()
