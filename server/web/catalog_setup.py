"""Catalog entries of the preparation pages: event settings, wallets at scale, people import.  (key, en, ja)."""

from __future__ import annotations

ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("nav.event", "Event settings", "イベント設定"),
    ("nav.menu", "Menu", "メニュー"),
    ("unit.min", "min", "分"),
    ("unit.s", "s", "秒"),
    ("unit.ms", "ms", "ミリ秒"),
    ("event.intro", "Terminals take these settings on their next pull (every {n} s); the server uses them at once. "
     "Every save is in the audit log.",
     "端末は次の同期（{n}秒ごと）でこの設定を受け取ります。サーバーはすぐに使います。保存はすべて操作履歴に残ります。"),
    ("event.section.event", "The event", "イベント"),
    ("event.section.caps", "Payment limits", "支払いの上限"),
    ("event.section.times", "Times", "時間"),
    ("event.event_name", "Event name", "イベント名"),
    ("event.currency", "Currency", "通貨"),
    ("event.currency_hint",
     "Any ISO 4217 currency. It can change only until the first sale or top-up. The amounts on this page are read in "
     "the currency chosen here; product prices keep their numbers of the smallest unit (¥100 would become $1.00), so "
     "check them after a change.",
     "ISO 4217 の通貨ならどれでも選べます。変更できるのは最初の販売・チャージまでです。"
     "このページの金額は、ここで選んだ通貨で"
     "読み取ります。商品の価格は最小単位の数のままなので（100円は1.00ドルになります）、変更後に確認してください。"),
    ("event.currency_locked", "Money has moved already (sales or top-ups): the currency can no longer change.",
     "すでにお金が動いている（販売・チャージがある）ため、通貨は変更できません。"),
    ("event.timezone", "Time zone", "タイムゾーン"),
    ("event.timezone_hint", "An IANA name such as Asia/Tokyo or Europe/London: every time shown, typed or grouped "
     "by hour uses it.",
     "Asia/Tokyo や Europe/London のような IANA 名。表示・入力・時間別集計のすべての時刻に使います。"),
    ("event.number_locale", "Number format", "数値の書式"),
    ("event.number_locale_hint", "A CLDR locale such as ja_JP, en_GB, de_DE: which mark separates decimals and which "
     "groups thousands when amounts are typed.",
     "ja_JP、en_GB、de_DE のような CLDR ロケール。金額を入力するときの小数点と桁区切りの記号を決めます。"),
    ("event.floor_limit", "Floor limit (per payment)", "フロアリミット（1回の支払い）"),
    ("event.floor_limit_hint",
     "A payment at or under this is decided by the terminal alone, with no network wait, even offline. Above it the "
     "terminal asks the server first; if the server does not answer in time, the fallback below applies. Higher: "
     "faster queues, more that can be spent before the server sees it.",
     "この金額以下の支払いは、端末がサーバーに問い合わせずに（オフラインでも）判断します。超える支払いは先にサーバーに確認し、"
     "時間内に応答がなければ下の「応答がないとき」に従います。高くすると列は速く進みますが、サーバーが知る前に使える額が増えます。"),
    ("event.offline_limit", "Offline limit (per wallet, per terminal)", "オフライン上限（ウォレットごと・端末ごと）"),
    ("event.offline_limit_hint",
     "What one wallet may spend at one terminal before that terminal has heard from the server again. A copied or "
     "stale QR code can spend at most this much per terminal; a wallet that reaches it is declined there until the "
     "terminal syncs.",
     "1つのウォレットが、1台の端末で、その端末がサーバーと同期するまでに使える額です。"
     "コピーされた古い QR コードでも、端末ごとに"
     "この額までしか使えません。達したウォレットは、端末が同期するまでその端末で断られます。"),
    ("event.unsynced_cap", "Unsynced cap (per terminal)", "未同期の上限（端末ごと）"),
    ("event.unsynced_cap_hint",
     "The total of sales a terminal may hold that the server has not received yet. Past it the terminal stops "
     "approving until it syncs: this is the most a lost or broken laptop can lose.",
     "サーバーにまだ届いていない販売の合計で、1台の端末が持てる上限です。超えると同期するまで承認を止めます。"
     "紛失・故障した端末で失われうる最大額になります。"),
    ("event.overdraft_tolerance", "Overdraft tolerance", "残高超過の許容額"),
    ("event.overdraft_tolerance_hint",
     "Sales approved offline are booked even if they take a wallet below zero (the goods were handed over). A wallet "
     "that goes more than this below zero is blocked on every terminal and shows on Anomalies.",
     "オフラインで承認された販売は、ウォレットがマイナスになっても記帳します（商品は渡し済みのため）。この額を超えてマイナスに"
     "なったウォレットは全端末で停止され、「異常」に表示されます。"),
    ("event.offline_fallback", "When the server does not answer", "サーバーの応答がないとき"),
    ("event.offline_fallback_hint",
     "For a payment above the floor limit: decline it, or approve it within the wallet's offline limit.",
     "フロアリミットを超える支払いを、断るか、ウォレットのオフライン上限の範囲で承認するかを選びます。"),
    ("event.fallback.decline", "Decline the payment", "支払いを断る"),
    ("event.fallback.offline_limit", "Approve within the offline limit", "オフライン上限の範囲で承認する"),
    ("event.max_offline_s", "Offline time limit", "オフラインの時間上限"),
    ("event.max_offline_s_hint",
     "After this long without a successful sync a terminal stops approving payments offline.",
     "最後に同期できてからこの時間が過ぎると、端末はオフラインでの承認を止めます。"),
    ("event.staff_idle_logout_s", "Idle logout", "無操作でのログアウト"),
    ("event.staff_idle_logout_s_hint", "Staff are signed out of a terminal after this long without a tap.",
     "この時間操作がないと、スタッフは端末からログアウトされます。"),
    ("event.wallet_token_ttl_s", "My page QR lifetime", "マイページの QR の有効時間"),
    ("event.wallet_token_ttl_s_hint",
     "How long the QR on My page stays valid (it refreshes itself). Shorter: an old screenshot stops working sooner.",
     "マイページの QR の有効時間（自動で更新されます）。短いほど、古いスクリーンショットが早く使えなくなります。"),
    ("event.authorize_timeout_ms", "Server answer timeout", "サーバー応答の待ち時間"),
    ("event.authorize_timeout_ms_hint",
     "How long a terminal waits for the server above the floor limit before the fallback applies.",
     "フロアリミットを超える支払いで、端末がサーバーの応答を待つ時間です。過ぎると「応答がないとき」に従います。"),
    ("event.pull_interval_s", "Pull interval", "受信の間隔"),
    ("event.pull_interval_s_hint",
     "How often terminals fetch changes (prices, blocked wallets, these settings). Shorter: changes arrive sooner, "
     "more load on the server.",
     "端末が変更（価格、停止したウォレット、この設定）を取りに来る間隔です。短いほど早く届きますが、サーバーの負荷が増えます。"),
    ("event.push_debounce_ms", "Send delay", "送信の待ち時間"),
    ("event.push_debounce_ms_hint",
     "How long a terminal waits after a sale before sending it, to send several at once.",
     "端末が販売の記録を送る前に待つ時間です。まとめて送るためのものです。"),
    ("event.range", "({lo} to {hi} {unit})", "（{lo}〜{hi}{unit}）"),
    ("event.err.heading", "Nothing was saved: correct these fields", "保存していません。次の項目を直してください"),
    ("event.err.empty", "The settings form was empty: nothing was changed.",
     "設定のフォームが空でした。何も変更していません。"),
    ("event.err.name", "The event needs a name (at most 200 characters).",
     "イベント名を入力してください（200文字まで）。"),
    ("event.err.currency", "“{text}” is not a currency in use: choose an ISO 4217 code such as JPY, GBP, KRW.",
     "「{text}」は現在使われている通貨ではありません。JPY、GBP、KRW のような ISO 4217 コードを選んでください。"),
    ("event.err.currency_locked", "Money has moved already: the currency stays {code}.",
     "すでにお金が動いているため、通貨は {code} のままです。"),
    ("event.err.timezone", "“{text}” is not a time zone: write an IANA name such as Asia/Tokyo.",
     "「{text}」はタイムゾーンではありません。Asia/Tokyo のような IANA 名を入力してください。"),
    ("event.err.locale", "“{text}” is not a number format: write a CLDR locale such as ja_JP or en_GB.",
     "「{text}」は数値の書式ではありません。ja_JP や en_GB のような CLDR ロケールを入力してください。"),
    ("event.err.choice", "{field}: choose one of the options.", "{field}：選択肢から選んでください。"),
    ("event.err.range", "{field}: enter a whole number from {lo} to {hi} {unit}.",
     "{field}：{lo}〜{hi}{unit}の整数を入力してください。"),
    ("event.err.invalid", "These settings do not fit together: nothing was changed.",
     "この組み合わせの設定は保存できません。何も変更していません。"),
)
