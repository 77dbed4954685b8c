"""Reason codes in plain words: what happened and what to do next, in English and Japanese.

The engine hands back a ``DeclineReason`` (stable values); this module turns
it into two lines for the result screen.  The catalog entries live here and
are merged into ``ui.i18n.CATALOG`` so the completeness test covers them.
"""

# ruff: noqa: E501  (translation tables: one message per line reads best)
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.money import JPY, Currency
from terminal.decisions import DeclineReason
from ui.i18n import CATALOG, local_time_text, tr

__all__ = ["SERVER_REASONS", "Explained", "explain_reason", "server_reason_key"]

R = DeclineReason
# reason -> (headline en, headline ja, next step en, next step ja)
_REASONS: dict[str, tuple[str, str, str, str]] = {
    R.NOT_A_CODE: ("This is not an Ennichi code", "縁日のコードではありません",
                   "Ask for the wallet QR on My page", "マイページのウォレットQRを見せてもらってください"),
    R.DAMAGED: ("The code could not be read", "コードを読み取れませんでした",
                "Scan again, or type the short code under the QR", "もう一度かざすか、QRの下の短いコードを入力してください"),
    R.FORGED: ("This code is not genuine", "正規のコードではありません",
               "Do not hand over goods. Call a supervisor", "商品を渡さず、責任者を呼んでください"),
    R.EXPIRED: ("Expired code", "コードの期限切れ",
                "Refresh My page and show the new code", "マイページを更新して新しいコードを見せてもらってください"),
    R.NOT_YET_VALID: ("This code is not valid yet", "まだ使えないコードです",
                      "Check the time on the phone, or refresh My page", "スマホの時刻を確認するか、マイページを更新してください"),
    R.WRONG_KIND: ("Wrong kind of code for this screen", "この画面では使えない種類のコードです",
                   "A wallet QR pays; a ticket QR is for the gate", "支払いはウォレットQR、チケットQRは入場ゲート用です"),
    R.WALLET_REVOKED: ("This wallet is blocked", "このウォレットは停止されています",
                       "Send the customer to the information desk", "案内所へ行くよう伝えてください"),
    R.NO_STATEMENT: ("This wallet is not known here yet", "このウォレットの情報がまだありません",
                     "Scan the QR instead of typing the code", "コード入力ではなくQRをかざしてください"),
    R.INSUFFICIENT_BALANCE: ("Not enough balance: {available} left", "残高不足：残り {available}",
                             "Top up at the top-up desk, or buy less", "チャージ所でチャージするか、購入を減らしてください"),
    R.OFFLINE_LIMIT: ("Offline limit reached for this wallet", "このウォレットのオフライン上限に達しました",
                      "Buy less, or wait until the terminal is online", "購入を減らすか、オンライン復帰を待ってください"),
    R.UNSYNCED_CAP: ("Too many sales not yet sent", "未送信の売上が多すぎます",
                     "Check the network; call a supervisor", "ネットワークを確認し、責任者を呼んでください"),
    R.SYNC_TOO_OLD: ("Offline for too long to approve", "オフライン時間が長すぎて承認できません",
                     "Reconnect the network; call a supervisor", "ネットワークを再接続し、責任者を呼んでください"),
    R.SERVER_DECLINED: ("The server declined: {server_reason}", "サーバーが拒否しました：{server_reason}",
                        "Send the customer to the information desk", "案内所へ行くよう伝えてください"),
    R.SERVER_UNREACHABLE: ("No answer from the server for this amount", "この金額はサーバーの確認が必要ですが応答がありません",
                           "Split into smaller amounts, or try again", "少額に分けるか、もう一度お試しください"),
    R.TOPUP_IN_DOUBT: ("In doubt: do not hand back the cash yet", "確認中：まだ現金を返さないでください",
                       "The answer was lost; it settles on the next contact and shows here", "応答が途絶えました。次の通信で確定し、この画面に表示されます"),
    R.CASHOUT_IN_DOUBT: ("In doubt: do not pay out the cash yet", "確認中：まだ現金を払い戻さないでください",
                         "The answer was lost; it settles on the next contact and shows here", "応答が途絶えました。次の通信で確定し、この画面に表示されます"),
    R.DRAWER_DOUBTS_OPEN: ("A top-up or cash-out is still in doubt", "確認中のチャージまたは払い戻しがあります",
                           "Wait until it settles (online), then close the drawer", "オンラインで確定してから締めてください"),
    R.TOPUP_NOT_SENT: ("Top-up not done: the server cannot be reached. Nothing was booked", "チャージできませんでした（サーバーに接続できません）。記録はありません",
                       "Hand the cash back, or try again when online", "現金を返すか、オンライン復帰後にもう一度お試しください"),
    R.ISSUE_NEEDS_SERVER: ("A new wallet needs the server, and it cannot be reached now", "新しいウォレットの発行にはサーバーが必要ですが、今は接続できません",
                           "Give a pre-printed card and scan it to top it up, or try again when online", "印刷済みのカードを渡して読み取り、チャージしてください。またはオンライン復帰後にもう一度"),
    R.ISSUE_NO_ANSWER: ("No answer from the server for the new wallet", "新しいウォレットについてサーバーから応答がありません",
                        "Press New wallet again: the same wallet comes back, never two (or give a pre-printed card)", "もう一度「新しいウォレット」を押してください。同じウォレットが返り、二重には作られません（または印刷済みのカード）"),
    R.ISSUE_CAP: ("This desk has issued as many new wallets as it may", "この窓口で発行できる新しいウォレットの上限に達しました",
                  "Give a pre-printed card, or ask an admin to raise the limit", "印刷済みのカードを渡すか、管理者に上限の変更を依頼してください"),
    R.SOLD_OUT_NEEDS_SERVER: ("{name}: marking sold out needs the server, and it cannot be reached now",
                              "{name}：売り切れの設定にはサーバーが必要ですが、今は接続できません",
                              "Try again when the till is online; until then tell customers it is gone",
                              "オンラインに戻ってからもう一度お試しください。それまではお客様に口頭でお伝えください"),
    R.NO_STOCK_LEFT: ("{name} has no stock left, so it stays sold out", "{name}は在庫が0のため、売り切れのままです",
                      "Ask an admin to set its stock on the dashboard", "管理者に管理画面で在庫数を設定してもらってください"),
    R.CLOCK_SKEW: ("This laptop's clock is {minutes} minutes {direction}", "この端末の時計が{minutes}分{direction}います",
                   "Set the laptop's clock right (automatic time), then scan again", "端末の時刻を正しく合わせて（自動設定）、もう一度かざしてください"),
    R.INVALID_CART: ("Something in the cart cannot be sold", "カートに販売できない商品があります",
                     "Remove sold-out items and try again", "売り切れ商品を外してもう一度お試しください"),
    R.FREE_AMOUNT_NOT_ALLOWED: ("Free amounts are not allowed at this stall", "この模擬店では金額入力は使えません",
                                "Choose products instead", "商品を選んでください"),
    R.INVALID_AMOUNT: ("That amount is not valid", "その金額は使えません",
                       "Enter the amount again; returns with purchases must not pay out more than they buy",
                       "金額を入力し直してください。購入と返却を一緒にするときは、返却が購入を超えないようにしてください"),
    R.DISCOUNT_TOO_LARGE: ("The discount is more than the items it is taken off", "値引きが商品の合計を超えています",
                           "Add the items first, or take the discount out", "先に商品を追加するか、値引きを外してください"),
    R.DEPOSIT_NOT_HELD: ("Cups back: this stall holds less in deposits than that", "容器返却：この模擬店の預かり保証金が足りません",
                         "Take back only cups this stall gave out; if the network is down, try again when online",
                         "この店で貸し出した容器だけ受け取ってください。オフラインのときはオンライン復帰後にもう一度"),
    R.REF_NOT_FOUND: ("That sale was not made on this terminal", "この端末の販売ではありません",
                      "Refund it on the terminal that sold it", "販売した端末で返金してください"),
    R.ABOVE_ORIGINAL: ("More than is left of the sale", "販売額の残りを超えています",
                       "Enter a smaller amount", "少ない金額を入力してください"),
    R.ITEM_ABOVE_LEFT: ("More {name} than is left to refund: {left} left", "返金できる{name}は残り{left}個です",
                        "Lower the quantity of this item", "この商品の数を減らしてください"),
    R.ITEM_NOT_IN_SALE: ("This item is not in the sale", "この商品はこの販売に含まれていません",
                         "Pick items of this sale, or refund by amount", "この販売の商品を選ぶか、金額で返金してください"),
    R.ALREADY_VOIDED: ("This sale was already voided", "この販売は取消済みです",
                       "Nothing more to do", "これ以上の操作は不要です"),
    R.NOT_LOGGED_IN: ("Nobody is logged in", "ログインしていません",
                      "Scan your staff badge to log in", "スタッフ証でログインしてください"),
    R.NOT_PERMITTED: ("You are not allowed to do this", "この操作の権限がありません",
                      "Ask a supervisor", "責任者に依頼してください"),
    R.WRONG_MODE: ("This terminal is not set up for that", "この端末ではその操作はできません",
                   "Use the right terminal (stall, top-up or gate)", "正しい端末（販売・チャージ・ゲート）を使ってください"),
    R.NOT_ENROLLED: ("This terminal is not set up", "端末が未登録です",
                     "Enroll it with a code from the dashboard", "管理画面のコードで登録してください"),
    R.TERMINAL_REVOKED: ("This terminal was switched off by the admin", "この端末は管理者により停止されています",
                         "Call a supervisor", "責任者を呼んでください"),
    R.STORAGE_FAILED: ("The terminal cannot save: its storage is full or unavailable. Nothing was charged", "端末に保存できません（容量不足または記録領域の異常）。請求はしていません",
                       "Free up space or call a supervisor; sales resume by themselves", "空き容量を作るか責任者を呼んでください。復旧すると自動で再開します"),
    R.TICKET_REVOKED: ("This ticket was cancelled", "このチケットは無効です",
                       "Send the visitor to the information desk", "案内所へ行くよう伝えてください"),
    R.WRONG_GATE: ("This ticket is for another gate", "別のゲート用のチケットです",
                   "Show the way to the right gate", "正しいゲートを案内してください"),
    R.TICKET_TYPE_INACTIVE: ("This ticket type is not valid now", "このチケット種別は現在使えません",
                             "Check the ticket's date and time", "チケットの日時を確認してください"),
    R.ALREADY_USED: ("This ticket was already used", "このチケットは使用済みです",
                     "Do not let in. Call a supervisor if unsure", "入場させず、不明なら責任者を呼んでください"),
    R.ALREADY_INSIDE: ("Already inside: no pass-back", "入場済みです（再入場には退場記録が必要）",
                       "The ticket must exit before it enters again", "一度退場してから再入場できます"),
    R.CLOSED: ("No sales now: outside the opening hours", "営業時間外のため販売できません",
               "Sales open again at {opens_at}", "{opens_at}から販売できます"),
    "closed_ended": ("No more sales: the opening hours are over", "営業時間が終了したため販売できません",
                     "Cups can still be taken back; refunds and top-ups go on", "カップの返却・返金・チャージは引き続きできます"),
    R.UNKNOWN_TICKET: ("No ticket of this event has this code", "このコードのチケットはありません",
                       "Check the code under the QR and type it again, or send the visitor to the information desk",
                       "QRの下のコードを確かめてもう一度入力するか、案内所へ行くよう伝えてください"),
}
# What the server's authorize can answer (server/records.py, server/api/routes/authorize.py), in words;
# tests/ui/test_ui_decline_reasons.py reads the server's code for every reason and fails on one missing here.
_SERVER: dict[str, tuple[str, str, str, str]] = {
    "insufficient_balance": ("Not enough balance: the server checked this wallet", "残高不足です（サーバーで確認しました）",
                             "Top up at the top-up desk, or buy less", "チャージ所でチャージするか、購入を減らしてください"),
    "sold_out": ("Sold out: the server has no more of an item in the cart", "売り切れです（サーバーの在庫がありません）",
                 "Take the item out of the cart; the stock on the buttons updates with the next sync", "その商品をカートから外してください。ボタンの在庫は次の同期で更新されます"),
    "line_refused": ("The server refused a line of the basket (a return, a discount or its price)",
                     "カートの行をサーバーが受け付けませんでした（返却・値引き・価格）",
                     "Check the returns and discounts in the cart; the buttons update with the next sync",
                     "カートの返却と値引きを確認してください。ボタンは次の同期で更新されます"),
    "deposit_not_held": ("This stall holds no deposit to give back", "この模擬店には返す保証金がありません",
                         "Take the return out of the cart: no cup was taken here", "返却をカートから外してください（この店で預かっていません）"),
    "wallet_blocked": ("This wallet is blocked", "このウォレットは停止されています",
                       "Send the customer to the information desk", "案内所へ行くよう伝えてください"),
    "closed": ("No sales now: the server's clock is outside the opening hours", "営業時間外のため販売できません（サーバーの時刻）",
               "Check this laptop's clock; sales open with the opening hours on the dashboard", "端末の時計を確認してください。管理画面の営業時間に販売できます"),
    "unknown_wallet": ("The server does not know this wallet", "サーバーにこのウォレットがありません",
                       "Ask the customer to open My page and show its QR; if it repeats, the information desk", "マイページのQRを見せてもらってください。続くときは案内所へ"),
    "unknown_stall": ("The server does not know this stall", "サーバーにこの模擬店がありません",
                      "Call a supervisor: the stall may have been changed on the dashboard", "責任者を呼んでください（管理画面で模擬店が変更された可能性があります）"),
    "forbidden": ("The server says you may not do this at this stall", "この模擬店でこの操作をする権限がないとサーバーが判断しました",
                  "Log in as staff of this stall, or ask a supervisor", "この模擬店のスタッフでログインするか、責任者に依頼してください"),
    "conflict": ("The server already has a different record with this number", "同じ番号の別の記録がサーバーにあります",
                 "Try again; if it repeats, call a supervisor", "もう一度お試しください。続くときは責任者を呼んでください"),
    # refunds and voids the server refused when they were sent (not decided online, but shown the same way)
    "unknown_sale": ("The server has no record of the sale being refunded", "返金する販売の記録がサーバーにありません",
                     "Call a supervisor; the refund is kept for review", "責任者を呼んでください（返金は確認待ちとして残ります）"),
    "mismatch": ("The refund does not match the sale's wallet or stall", "返金が販売のウォレット・模擬店と一致しません",
                 "Call a supervisor; the refund is kept for review", "責任者を呼んでください（返金は確認待ちとして残ります）"),
    "void_mismatch": ("A void must cancel the whole sale", "取消は販売全額でのみできます",
                      "Use a refund for part of a sale", "一部の返金は「返金」を使ってください"),
    "exceeds_item": ("More of an item than is left of it to refund", "返金できる残りの数を超える商品があります",
                     "Call a supervisor; the refund is kept for review", "責任者を呼んでください（返金は確認待ちとして残ります）"),
    "line_not_in_sale": ("The refund names an item the sale did not sell", "販売に含まれない商品の返金です",
                         "Call a supervisor; the refund is kept for review", "責任者を呼んでください（返金は確認待ちとして残ります）"),
    "exceeds_refundable": ("More than is left of the sale to refund", "販売額の残りを超える返金です",
                           "Enter a smaller amount", "少ない金額を入力してください"),
    # the HTTP status when the server refused the request itself (its message is English, for the log)
    "http_403": ("The server says you may not do this here", "この操作の権限がないとサーバーが判断しました",
                 "Log in as staff of this stall, or ask a supervisor", "この模擬店のスタッフでログインするか、責任者に依頼してください"),
    "http_409": ("The server already has a different record with this number", "同じ番号の別の記録がサーバーにあります",
                 "Try again; if it repeats, call a supervisor", "もう一度お試しください。続くときは責任者を呼んでください"),
    "http_422": ("The server could not accept this sale as sent", "サーバーがこの取引を受け付けられませんでした",
                 "Try again; if it repeats, call a supervisor", "もう一度お試しください。続くときは責任者を呼んでください"),
    "http_429": ("The server is too busy right now", "サーバーが混み合っています",
                 "Wait a few seconds and try again", "数秒待ってからもう一度お試しください"),
    "http_5xx": ("The server had a problem with this sale", "サーバーで問題が起きました",
                 "Try again; if it repeats, call a supervisor", "もう一度お試しください。続くときは責任者を呼んでください"),
    "other": ("The server declined this", "サーバーが受け付けませんでした",
              "Call a supervisor (the reason is in the terminal's log)", "責任者を呼んでください（理由は端末のログにあります）"),
}
_UNKNOWN = ("Declined ({code})", "拒否されました（{code}）", "Call a supervisor", "責任者を呼んでください")

for _code, (_h_en, _h_ja, _n_en, _n_ja) in [*_REASONS.items(), ("unknown", _UNKNOWN)]:
    CATALOG[f"reason.{_code}"] = (_h_en, _h_ja)
    CATALOG[f"reason.{_code}.next"] = (_n_en, _n_ja)
for _code, (_h_en, _h_ja, _n_en, _n_ja) in _SERVER.items():
    CATALOG[f"reason.server.{_code}"] = (_h_en, _h_ja)
    CATALOG[f"reason.server.{_code}.next"] = (_n_en, _n_ja)
SERVER_REASONS = frozenset(code for code in _SERVER if not code.startswith("http_") and code != "other")


def server_reason_key(params: dict[str, Any]) -> str:
    """Return the catalog key for a server's decline: its reason code, else the HTTP status, else "other"."""
    raw = params.get("server_reason")
    code = raw.split(":", 1)[0].strip() if isinstance(raw, str) else ""
    if code in SERVER_REASONS:
        return f"reason.server.{code}"
    status = params.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        if status >= 500:
            return "reason.server.http_5xx"
        if f"reason.server.http_{status}" in CATALOG:
            return f"reason.server.http_{status}"
    return "reason.server.other"


@dataclass(frozen=True)
class Explained:
    """Two lines for the result screen."""

    headline: str
    next_step: str


def explain_reason(reason: str | None, params: dict[str, Any] | None = None, *,
                   currency: Currency = JPY) -> Explained:
    """Return the plain words for a decline reason, filling amounts from ``params``."""
    params = dict(params or {})
    code = str(reason) if reason is not None else "unknown"
    key = f"reason.{code}" if f"reason.{code}" in CATALOG else "reason.unknown"
    if code == DeclineReason.SERVER_DECLINED:
        key = server_reason_key(params)  # the server's code (insufficient_balance, ...) in words, never raw
    if code == DeclineReason.CLOSED and not isinstance(params.get("opens_at"), int):
        key = "reason.closed_ended"  # no later opening: the festival is over
    values: dict[str, object] = {"code": code, "server_reason": params.get("server_reason", "—")}
    values["minutes"] = params.get("minutes", "—")
    values["direction"] = tr(f"clock.{params.get('direction')}") if params.get("direction") in ("slow", "fast") \
        else "—"
    values["name"] = str(params.get("name", "—"))
    values["left"] = params.get("left", "—")
    for name in ("available", "balance", "amount", "limit"):
        value = params.get(name)
        values[name] = currency.format(value) if isinstance(value, int) else "—"
    if values["available"] == "—" and isinstance(params.get("balance"), int):
        values["available"] = values["balance"]
    opens = params.get("opens_at")
    values["opens_at"] = local_time_text(opens, "%m/%d %H:%M") if isinstance(opens, int) else "—"
    return Explained(tr(key, **values), tr(f"{key}.next", **values))
