"""Every user-facing string, in English and Japanese, and the switch between them at runtime.

A Python dict catalog instead of Qt's .ts/.qm: the messages carry named
parameters shared by both languages (amounts, names, times), a test checks
that every key has both languages with the same parameters, and there is no
build step (PySide6-Essentials ships lrelease, but a compiled .qm would be one
more artefact to keep in step with the code).  Widgets connect to
``I18n.language_changed`` and set their texts again in ``retranslate``.
"""

# ruff: noqa: E501  (translation tables: one message per line reads best)
from __future__ import annotations

import string

from PySide6.QtCore import QObject, Signal

from sync.timezone import event_zone, local_time

__all__ = ["CATALOG", "LANGUAGES", "I18n", "i18n", "install", "local_time_text", "tr"]

LANGUAGES = ("ja", "en")

# key -> (English, Japanese)
CATALOG: dict[str, tuple[str, str]] = {
    # app, common
    "app.title": ("Ennichi terminal", "縁日 端末"),
    "common.back": ("Back", "戻る"),
    "common.cancel": ("Cancel", "キャンセル"),
    "common.ok": ("OK", "OK"),
    "common.clear": ("Clear", "クリア"),
    "common.language": ("日本語", "English"),
    "common.working": ("Working…", "処理中…"),
    "result.receipt_qr": ("Receipt: scan with your phone (My page)", "レシート：スマホで読み取り（マイページ）"),
    "common.tap_to_continue": ("Tap anywhere for the next customer", "画面をタップすると次のお客様へ"),
    "common.bug": (
        "Something went wrong inside the app. It was logged; you can keep working.",
        "アプリ内部でエラーが発生しました。記録済みです。このまま続けられます。",
    ),
    "common.dismiss": ("Close", "閉じる"),
    "common.keypad_del": ("⌫", "⌫"),
    # status bar
    "status.online": ("Online", "オンライン"),
    "status.offline": ("Offline since {since}, {unsynced} unsynced", "{since} からオフライン・未送信 {unsynced} 件"),
    "status.offline_short": ("Offline", "オフライン"),
    "status.sales_go_on": ("sales go on", "販売は続けられます"),
    "status.synced_ago": ("synced {age} ago", "{age}前に同期"),
    "status.never_synced": ("not synced yet", "未同期"),
    "status.unsynced": ("{unsynced} unsynced", "未送信 {unsynced} 件"),
    "status.staff": ("Staff: {name}", "担当: {name}"),
    "status.no_staff": ("Nobody logged in", "未ログイン"),
    "status.camera": ("Camera: {state}", "カメラ: {state}"),
    "age.seconds": ("{n} s", "{n}秒"),
    "age.minutes": ("{n} min", "{n}分"),
    "age.hours": ("{n} h", "{n}時間"),
    "camera.opening": ("starting", "起動中"),
    "camera.live": ("ready", "準備完了"),
    "camera.missing": ("not found", "見つかりません"),
    "camera.busy": ("in use elsewhere", "他で使用中"),
    "camera.lost": ("stopped", "停止"),
    "camera.reconnecting": ("reconnecting", "再接続中"),
    "camera.ended": ("no frames", "映像なし"),
    "camera.stopped": ("off", "オフ"),
    "camera.no_decoder": ("no QR reader installed", "QR読み取りライブラリがありません"),
    # enrollment / first run
    "enroll.title": ("Set up this terminal", "この端末の設定"),
    "enroll.intro": (
        "Show the enrollment QR from the admin dashboard to the camera, or paste its text below.",
        "管理画面の登録用QRをカメラにかざすか、下にテキストを貼り付けてください。",
    ),
    "enroll.paste": ("Paste the enrollment code (EE1:…)", "登録コードを貼り付け（EE1:…）"),
    "enroll.submit": ("Enroll", "登録する"),
    "enroll.camera": ("Camera", "カメラ"),
    "enroll.language": ("Language", "言語"),
    "enroll.working": ("Enrolling with the server…", "サーバーに登録しています…"),
    "enroll.pin_mismatch": (
        "Refused: the server's certificate is not the one this enrollment code names. Someone may be "
        "pretending to be the server, or the code is from another event. Ask the organiser for a new code.",
        "登録を中止しました：サーバーの証明書がこの登録コードのものと違います。別のサーバーがなりすましているか、"
        "別のイベントのコードです。運営者に新しいコードをもらってください。",
    ),
    "enroll.tls_unreachable": (
        "Cannot reach the server's secure address. Check that this laptop is on the venue's Wi-Fi and "
        "that the server is running, then try again.",
        "サーバーの安全な接続先に届きません。このパソコンが会場のWi-Fiにつながっているか、サーバーが"
        "動いているかを確かめて、もう一度お試しください。",
    ),
    "enroll.bad_code": ("This is not an enrollment code: {detail}", "登録コードではありません：{detail}"),
    "enroll.failed": ("Enrollment failed: {detail}", "登録できませんでした：{detail}"),
    "enroll.done": ("Enrolled as {name}", "{name} として登録しました"),
    # login
    "code.empty": ("Type the code first.", "先にコードを入力してください。"),
    "code.check": ("The check character does not match: a character was mistyped. Check the code and type it again.", "確認文字が一致しません。打ち間違いがあります。コードを確かめて入力し直してください。"),
    "code.length": ("A code has 9 characters (e.g. K7M2-QX4P-9). Check the code and type it again.", "コードは9文字です（例: K7M2-QX4P-9）。確かめて入力し直してください。"),
    "code.symbol": ("The code has a character that codes never use. Check the code and type it again.", "コードに使われない文字が入っています。確かめて入力し直してください。"),
    "login.typed": ("Staff code (K7M2-QX4P-9)", "スタッフコード（K7M2-QX4P-9）"),
    "login.use_code": ("Use this staff code", "このコードで続ける"),
    "topup.typed": ("Wallet code (K7M2-QX4P-9)", "ウォレットコード（K7M2-QX4P-9）"),
    "topup.use_code": ("Top up this wallet", "このウォレットにチャージ"),
    "login.not_here": ("{name} has no role at this terminal's stall, gate or desk, so cannot log in here. Use your own stall's terminal, or ask a supervisor to add the role on the dashboard.", "{name} さんはこの端末の模擬店・ゲート・窓口での役割がないため、ここではログインできません。担当の端末を使うか、責任者に管理画面で役割を追加してもらってください。"),
    "login.not_here_unnamed": ("This staff member has no role at this terminal's stall, gate or desk (or the account is switched off), so cannot log in here. Use your own stall's terminal, or ask a supervisor to check your roles on the dashboard.", "このスタッフはこの端末の模擬店・ゲート・窓口での役割がない（またはアカウントが停止されている）ため、ここではログインできません。担当の端末を使うか、責任者に管理画面で役割を確認してもらってください。"),
    "shift.approved": ("  of which {n} approved by a supervisor", "  うち責任者の承認 {n} 件"),
    "result.balance_offline": ("Balance after: about {balance}, not yet synced", "残高（目安）: 約 {balance}・未同期"),
    "refund.confirm": ("Refund {amount} to the customer's wallet? Show the customer, then confirm.", "お客様のウォレットに {amount} を返金します。お客様に確認してから進めてください。"),
    "refund.confirm_void": ("Cancel the whole sale of {amount} and give it back to the wallet? Show the customer, then confirm.", "{amount} の販売を全額取り消してウォレットに戻します。お客様に確認してから進めてください。"),
    "refund.confirm_yes": ("Yes, refund {amount}", "はい、{amount} を返金"),
    "refund.confirm_yes_void": ("Yes, void the sale ({amount})", "はい、取り消す（{amount}）"),
    "refund.approve": ("Approve this refund", "この返金を承認"),
    "refund.approve_void": ("Approve this void", "この取消を承認"),
    "refund.zero": ("Enter an amount above {zero} first.", "先に{zero}より大きい金額を入力してください。"),
    "settings.unlock": ("Open the settings", "設定を開く"),
    "sale.left": ("{n} left", "残り {n}"),
    "sale.no_more": ("Only {n} of {name} left: no more can be sold", "{name} は残り {n} 個です。これ以上は販売できません"),
    "login.title": ("Staff login", "スタッフログイン"),
    "login.scan_badge": ("Scan your staff badge, or type the staff code printed on it", "スタッフ証をかざすか、記載のスタッフコードを入力してください"),
    "login.enter_pin": ("Badge read. Enter your PIN", "スタッフ証を確認しました。PINを入力してください"),
    "login.submit": ("Log in", "ログイン"),
    "login.wrong_pin": ("Wrong PIN. {left} tries left.", "PINが違います。あと {left} 回。"),
    "login.wrong_pin_plain": ("Wrong PIN. Try again.", "PINが違います。もう一度入力してください。"),
    "login.locked": (
        "Too many wrong PINs. Locked until {until}. Ask a supervisor.",
        "PINの誤りが多すぎます。{until} までロック中です。責任者を呼んでください。",
    ),
    "login.refused": ("This badge cannot log in: {why}", "このスタッフ証ではログインできません：{why}"),
    "login.idle_logout": ("Logged out after a quiet while.", "一定時間操作がなかったためログアウトしました。"),
    "login.reason.not_a_badge": ("this is not a staff badge", "スタッフ証ではありません"),
    "login.reason.forged": ("the badge is not genuine", "正規のスタッフ証ではありません"),
    "login.reason.expired": ("the badge has expired", "スタッフ証の期限切れです"),
    "login.reason.unknown_staff": ("unknown staff member; ask the admin", "未登録のスタッフです。管理者に確認してください"),
    "login.reason.inactive": ("the staff account is disabled", "スタッフアカウントが無効です"),
    "login.reason.badge_replaced": ("a newer badge was issued; use that one", "新しいスタッフ証が発行されています"),
    "login.reason.revoked": ("the badge was revoked", "スタッフ証は無効化されています"),
    "login.reason.not_enrolled": ("the terminal is not set up", "端末が未登録です"),
    "login.reason.terminal_revoked": ("this terminal was switched off by the admin", "この端末は管理者により停止されています"),
    "login.reason.not_permitted": ("no permission on this terminal", "この端末の権限がありません"),
    "login.reason.not_yet_valid": ("the badge is not valid yet", "まだ使えないスタッフ証です"),
    "login.reason.clock_skew": ("this laptop's clock is {minutes} minutes {direction}: set it right (automatic time)",
                                "この端末の時計が{minutes}分{direction}います。時刻を正しく合わせてください（自動設定）"),
    # navigation
    "nav.sale": ("Sale", "販売"),
    "nav.recent": ("Recent / refund", "履歴・返金"),
    "nav.topup": ("Top-up", "チャージ"),
    "nav.gate": ("Gate", "入退場"),
    "nav.shift": ("Close shift", "締め"),
    "nav.soldout": ("Sold out", "売り切れ"),
    "soldout.title": ("Sold out: what this stall can still sell", "売り切れの設定"),
    "soldout.hint": ("Tap a product's button to mark it sold out, or to sell it again. The server keeps it: "
                     "the stall's other tills and the dashboard follow.",
                     "商品のボタンを押すと売り切れにできます（もう一度押すと販売を再開）。サーバーに記録され、"
                     "この模擬店のほかの端末と管理画面にも反映されます。"),
    "soldout.mark": ("Mark sold out", "売り切れにする"),
    "soldout.back_on_sale": ("Back on sale", "販売を再開する"),
    "soldout.is_sold_out": ("Sold out", "売り切れ"),
    "soldout.on_sale": ("On sale", "販売中"),
    "soldout.on_sale_left": ("On sale: {left} left", "販売中（残り{left}）"),
    "soldout.asking": ("Asking the server…", "サーバーに確認しています…"),
    "soldout.done_sold_out": ("{name} is sold out now", "{name}を売り切れにしました"),
    "soldout.done_on_sale": ("{name} is on sale again", "{name}の販売を再開しました"),
    "soldout.none": ("This stall has no products to mark", "この模擬店には設定できる商品がありません"),
    "nav.settings": ("Settings", "設定"),
    "nav.logout": ("Log out", "ログアウト"),
    # sale
    "sale.cart": ("Cart", "カート"),
    "sale.total": ("Total", "合計"),
    "sale.empty": ("Tap products to add them", "商品をタップして追加"),
    "sale.sold_out": ("SOLD OUT", "売り切れ"),
    "sale.category_all": ("All", "すべて"),
    "sale.category_other": ("Other", "その他"),
    "sale.return": ("↩ Return", "↩ 返却"),
    "sale.discount": ("Discount", "値引き"),
    "sale.not_negative": ("A basket that buys something never pays out: take the cups back on their own",
                          "購入を含むカートはマイナスにできません。容器の返却だけを別に行ってください"),
    "sale.scan_to_return": ("Cups back: show the wallet QR to get {total} back", "容器返却：{total} を返金します。QRをかざしてください"),
    "sale.returning": ("Giving the deposit back…", "保証金を返金中…"),
    "sale.free_amount": ("Amount…", "金額入力"),
    "sale.free_line": ("Amount", "金額"),
    "sale.scan_to_pay": ("Show the wallet QR to pay {total}", "{total} のお支払い：QRをかざしてください"),
    "sale.add_first": ("Add products first, then scan", "先に商品を選んでからスキャンしてください"),
    "sale.manual": ("Type code", "コード入力"),
    "sale.manual_title": ("Wallet code (e.g. K7M2-QX4P-9)", "ウォレットコード（例: K7M2-QX4P-9）"),
    "sale.paying": ("Paying…", "決済中…"),
    "sale.clear_cart": ("Clear", "クリア"),
    # results
    "result.approved": ("Paid", "お支払い完了"),
    "result.declined": ("Not paid", "お支払いできません"),
    "result.balance": ("Balance left: {balance}", "残高: {balance}"),
    "result.amount": ("{amount}", "{amount}"),
    "result.offline_note": ("(decided offline, will sync)", "（オフラインで承認・後で同期）"),
    "result.topup_ok": ("Topped up {amount}", "{amount} チャージしました"),
    "result.refund_ok": ("Refunded {amount}", "{amount} 返金しました"),
    "result.deposit_back": ("{amount} back on the wallet", "{amount} をウォレットに返金しました"),
    "result.void_ok": ("Sale voided: {amount} back", "取消しました：{amount} 返金"),
    "result.gate_in": ("Welcome in", "入場OK"),
    "result.gate_out": ("Exit recorded", "退場を記録しました"),
    "result.gate_refused": ("Do not let in", "入場できません"),
    "result.gate_refused_out": ("Exit not recorded", "退場できません"),
    # recent / refund
    "recent.title": ("Recent transactions", "最近の取引"),
    "recent.none": ("No transactions yet", "取引はまだありません"),
    "recent.refund": ("Refund / void selected", "選択した取引を返金・取消"),
    "recent.select_first": ("Select a sale first", "先に販売を選んでください"),
    "kind.sale": ("Sale", "販売"),
    "kind.refund": ("Refund", "返金"),
    "kind.void": ("Void", "取消"),
    "kind.topup": ("Top-up", "チャージ"),
    "kind.checkin": ("Gate", "入退場"),
    "kind.cashout": ("Cash-out", "払い戻し"),
    "kind.deposit_return": ("Cups back", "容器返却"),
    "refund.title": ("Refund or void", "返金・取消"),
    "refund.of": ("Sale {time}: {amount}", "{time} の販売：{amount}"),
    "refund.amount": ("Refund amount", "返金額"),
    "refund.do_refund": ("Refund this amount", "この金額を返金"),
    "refund.do_void": ("Void the whole sale", "販売を全額取消"),
    "refund.do_refund_items": ("Refund the items picked", "選んだ商品を返金"),
    "refund.amount_items": ("Refund amount (the items picked)", "返金額（選んだ商品）"),
    "refund.by_amount": ("Refund by amount", "金額で返金"),
    "refund.by_item": ("Refund by item", "商品で返金"),
    "refund.item_left": ("{left} of {sold} left to refund", "返金できるのは {sold} 個中 {left} 個"),
    "refund.item_max": ("Only {left} {name} left to refund.", "{name} の返金は残り {left} 個までです。"),
    "refund.no_items": ("Pick at least one item first (+).", "先に商品を選んでください（＋）。"),
    "refund.confirm_items": ("Refund {items}: {amount} to the customer's wallet? Show the customer, then confirm.", "{items} を返金し、お客様のウォレットに {amount} を戻します。お客様に確認してから進めてください。"),
    "refund.need_supervisor": (
        "You need a supervisor: scan a supervisor badge and enter their PIN.",
        "責任者の承認が必要です：責任者のスタッフ証をかざし、PINを入力してください。",
    ),
    "refund.supervisor_ok": ("Supervisor: {name}", "責任者: {name}"),
    # shift
    "shift.title": ("Shift report", "締めレポート"),
    "shift.save": ("Save as file", "ファイルに保存"),
    "shift.saved": ("Saved to {path}", "{path} に保存しました"),
    "shift.close_and_logout": ("Close shift and log out", "締めてログアウト"),
    "shift.tendered": ("Tendered", "お預かり合計"),
    "shift.cash_in": ("Cash in", "現金増減"),
    "shift.float": ("Start float", "釣銭準備金"),
    "shift.counted": ("Cash counted now", "現在の現金（実査）"),
    "shift.close_drawer": ("Close the drawer", "レジを締める"),
    "shift.drawer_done": ("Drawer closed. Expected {expected}, counted {counted}, difference {difference}",
                          "レジを締めました。理論 {expected}、実査 {counted}、過不足 {difference}"),
    "shift.change": ("Change given", "お釣り合計"),
    "shift.doubt_open": ("In doubt (keep the cash)", "確認中（現金は保留）"),
    "shift.doubt_booked": ("Doubt → booked", "確認中→チャージ確定"),
    "shift.doubt_refused": ("Doubt → refused: cash back", "確認中→不成立（返金）"),
    # top-up
    "topup.title": ("Top-up", "チャージ"),
    "topup.amount": ("Amount", "チャージ額"),
    "topup.cash": ("Cash received", "お預かり"),
    "topup.change": ("Change", "お釣り"),
    "topup.short": ("Cash is short by {amount}", "{amount} 不足しています"),
    "topup.scan": ("Now show the wallet QR", "ウォレットQRをかざしてください"),
    "topup.pick_amount": ("Choose the amount first", "先に金額を選んでください"),
    "topup.exact": ("Exact", "ちょうど"),
    "topup.doubt_keep": ("Keep the {cash} received until it settles", "確定するまでお預かりの {cash} を保管してください"),
    "topup.doubt_open": ("In doubt: {amount} for {wallet} (cash {cash}). Do not hand back the cash yet",
                         "確認中：{wallet} へ {amount}（お預かり {cash}）。まだ現金を返さないでください"),
    "topup.doubt_booked": ("Settled: {amount} was loaded onto {wallet}. Keep the cash (change {change})",
                           "確定：{wallet} に {amount} チャージされました。現金はそのまま（お釣り {change}）"),
    "topup.doubt_refused": ("Settled: {amount} for {wallet} was NOT loaded. Hand back {cash}",
                            "確定：{wallet} への {amount} はチャージされていません。{cash} を返してください"),
    "topup.doubt_confirm": ("Seen: next", "確認しました"),
    "topup.new_wallet": ("New wallet", "新しいウォレット"),
    "topup.new_asking": ("Asking the server for a new wallet…", "サーバーに新しいウォレットを依頼しています…"),
    "topup.new_title": ("New wallet {code}", "新しいウォレット {code}"),
    "topup.new_photo": ("Visitor: photograph this QR with your phone. It opens My page once: choose a PIN there, "
                        "then My page shows the wallet QR to pay with",
                        "来場者の方へ：このQRをスマホで読み取ってください。マイページが一度だけ開き、暗証番号を設定すると"
                        "支払い用のウォレットQRが表示されます"),
    "topup.new_no_link": ("My page access of this wallet is already set up", "このウォレットのマイページは設定済みです"),
    "topup.new_topup": ("Top up {code}", "{code} にチャージ"),
    "topup.new_done": ("Done: next visitor", "完了：次の方へ"),
    "topup.new_pick": ("Choose the amount and the cash, then press Top up", "金額とお預かりを選んでから「チャージ」を押してください"),
    "topup.new_loaded": ("{amount} loaded: the visitor's phone shows it on My page",
                         "{amount} をチャージしました。残高は来場者のスマホのマイページに表示されます"),
    "cashout.title": ("Cash-out", "払い戻し"),
    "cashout.amount": ("A part, or none chosen for {all}", "一部の金額（選ばなければ{all}）"),
    "cashout.all": ("the whole balance", "残高すべて"),
    "cashout.part": ("Pay out {amount}", "{amount} を払い戻し"),
    "nav.cashout": ("Cash-out", "払い戻し"),
    "result.cashout_ok": ("Pay out {amount} in cash", "現金 {amount} をお渡しください"),
    "cashout.doubt_open": ("In doubt: {amount} from {wallet}. Do not pay out the cash yet",
                           "確認中：{wallet} から {amount}。まだ現金を払い戻さないでください"),
    "cashout.doubt_booked": ("Settled: {amount} was taken from {wallet}. Pay it out now",
                             "確定：{wallet} から {amount} を引き落としました。現金を払い戻してください"),
    "cashout.doubt_refused": ("Settled: {amount} from {wallet} was NOT taken. Do not pay it out",
                              "確定：{wallet} からの {amount} は引き落とされていません。払い戻さないでください"),
    "clock.slow": ("slow", "遅れて"),
    "clock.fast": ("fast", "進んで"),
    # gate
    "gate.title": ("Gate", "入退場ゲート"),
    "gate.entry": ("ENTRY", "入場"),
    "gate.exit": ("EXIT", "退場"),
    "gate.inside": ("Inside now: {count}", "場内: {count} 人"),
    "gate.here": ("This gate: {entries} in · {exits} out", "このゲート: 入場 {entries} · 退場 {exits}"),
    "gate.scan": ("Show the ticket QR", "チケットQRをかざしてください"),
    "gate.typed": ("Ticket code under the QR (K7M2-QX4P-9)", "QRの下のチケットコード（K7M2-QX4P-9）"),
    "gate.use_code": ("Check this ticket", "このチケットを確認"),
    # settings
    "settings.title": ("Settings", "設定"),
    "settings.camera": ("Camera", "カメラ"),
    "settings.camera_n": ("Camera {n}", "カメラ {n}"),
    "settings.camera_named": ("Camera {n}: {name}", "カメラ {n}: {name}"),
    "settings.apply_camera": ("Use this camera", "このカメラを使う"),
    "settings.shutdown": ("Shut down the app", "アプリを終了"),
    "settings.need_permission": (
        "Settings need a supervisor: scan a badge with the settings permission and enter the PIN.",
        "設定には責任者が必要です：設定権限のあるスタッフ証をかざし、PINを入力してください。",
    ),
    "settings.terminal": ("Terminal: {name}", "端末: {name}"),
    # free-amount / pin dialogs
    "keypad.amount": ("Enter the amount", "金額を入力"),
    "keypad.pin": ("PIN", "PIN"),
}


class I18n(QObject):
    """The current language, the catalog lookup and the event's time zone; emits ``language_changed`` on a switch.

    Every time a screen shows is in the event's zone (``EventSettings.timezone``, pulled),
    never the laptop's own: a laptop set to UTC at a London event in summer still shows 14:00.
    """

    language_changed = Signal(str)

    def __init__(self, language: str = "ja", zone: str = "Asia/Tokyo") -> None:
        """Start in ``language`` ("ja" or "en"); raises ValueError for any other."""
        super().__init__()
        self._language = self._check(language)
        self._zone = event_zone(zone)

    def set_zone(self, name: str) -> None:
        """Show times in the IANA zone ``name`` from now on; an unknown name keeps the zone there is."""
        try:
            self._zone = event_zone(name)
        except ValueError:
            return

    def time(self, ms: int, fmt: str = "%H:%M") -> str:
        """A Unix-ms instant as the event's local time (``fmt`` as strftime)."""
        return local_time(ms, self._zone).strftime(fmt)

    @staticmethod
    def _check(language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        return language

    @property
    def language(self) -> str:
        """Return the current language code."""
        return self._language

    def set_language(self, language: str) -> None:
        """Switch language and tell every listener; raises ValueError for an unknown one."""
        language = self._check(language)
        if language != self._language:
            self._language = language
            self.language_changed.emit(language)

    def toggle(self) -> None:
        """Switch between Japanese and English."""
        self.set_language("en" if self._language == "ja" else "ja")

    def tr(self, key: str, **params: object) -> str:  # type: ignore[override]  # not Qt's tr: the catalog's
        """Return the text for ``key`` in the current language; a missing key shows as itself (a bug)."""
        pair = CATALOG.get(key)
        if pair is None:
            return key
        text = pair[0] if self._language == "en" else pair[1]
        return text.format(**params) if params else text


def placeholders(text: str) -> set[str]:
    """Return the named parameters of a catalog text."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


_INSTANCE: I18n | None = None


def i18n() -> I18n:
    """Return the app's one I18n object (created on first use)."""
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = I18n()
    return _INSTANCE


def install(obj: I18n) -> I18n:
    """Make ``obj`` the app's I18n (the app and tests build their own); returns it."""
    global _INSTANCE
    _INSTANCE = obj
    return obj


def tr(key: str, **params: object) -> str:
    """Translate ``key`` with the app's I18n."""
    return i18n().tr(key, **params)


def local_time_text(ms: int, fmt: str = "%H:%M") -> str:
    """A Unix-ms instant in the event's time zone, with the app's I18n (``I18n.time``)."""
    return i18n().time(ms, fmt)
