//! The inventory section's words, English and Japanese: fixed texts in
//! [`InventoryText`] (one `match`, so a missing translation does not
//! compile) and the sentences with numbers in them.

use marshal_shared::api::{EventPhase, LedgerAction};

use super::{Lang, pick};
use crate::state::inventory::Expiry;

/// Every fixed text of the inventory section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum InventoryText {
    Heading,
    Intro,
    Filters,
    Target,
    AllTargets,
    Thing,
    ExpiresBefore,
    ExpiresBeforeHint,
    RegisteredBy,
    Search,
    Searching,
    LoadMore,
    LoadingMore,
    Failed,
    MoreFailed,
    NotSearched,
    Empty,
    BadDate,
    Certificate,
    Status,
    NotAfter,
    Policy,
    RegisteredAt,
    Actions,
    NotYours,
    CopyId,
    Copied,
    CopyFailed,
    History,
    HistoryHeading,
    HistoryLoading,
    HistoryFailed,
    HistoryEmpty,
    CloseHistory,
    Time,
    Action,
    Phase,
    Result,
    By,
    Detail,
    Intent,
    Outcome,
    Ok,
    FailedEvent,
    ExportCsv,
    ExportHint,
    ExportFailed,
    Successor,
}

impl InventoryText {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        pick(lang, en, ja)
    }

    fn both(self) -> (&'static str, &'static str) {
        use InventoryText::*;
        match self {
            Heading => (
                "5. Inventory: what Marshal registered",
                "5. 一覧: Marshal が登録した証明書",
            ),
            Intro => (
                "Certificates Marshal registered in the targets you may see, the soonest to expire first. Filter, look at a certificate's history, or export the rows as CSV.",
                "見られる登録先に Marshal が登録した証明書を、期限の近い順に表示します。絞り込み、履歴の表示、CSV への書き出しができます。",
            ),
            Filters => ("Filters", "絞り込み"),
            Target => ("Target", "登録先"),
            AllTargets => ("All targets", "すべての登録先"),
            Thing => ("Thing name", "モノの名前"),
            ExpiresBefore => ("Expires before", "この日より前に期限切れ"),
            ExpiresBeforeHint => (
                "A date (midnight UTC); empty: any expiry.",
                "日付（UTC の 0 時）。空欄: 期限を問わない。",
            ),
            RegisteredBy => ("Registered by", "登録した人"),
            Search => ("Search", "検索"),
            Searching => ("Loading the inventory…", "一覧を読み込み中…"),
            LoadMore => ("Load more", "さらに読み込む"),
            LoadingMore => ("Loading more…", "さらに読み込み中…"),
            Failed => (
                "The inventory could not be loaded.",
                "一覧を読み込めませんでした。",
            ),
            MoreFailed => (
                "The next rows could not be loaded; the rows above are still shown. Try \"Load more\" again.",
                "続きを読み込めませんでした。上の行はそのまま表示しています。「さらに読み込む」を再度押してください。",
            ),
            NotSearched => (
                "Press \"Search\" to list the certificates (empty filters: all of them).",
                "「検索」を押すと証明書を一覧表示します（絞り込みが空欄ならすべて）。",
            ),
            Empty => (
                "No certificate matches these filters.",
                "条件に合う証明書はありません。",
            ),
            BadDate => (
                "Enter the date as YYYY-MM-DD (for example 2027-03-01).",
                "日付を YYYY-MM-DD の形で入力してください（例: 2027-03-01）。",
            ),
            Certificate => ("Certificate ID", "証明書 ID"),
            Status => ("Status", "状態"),
            NotAfter => ("Expires (notAfter)", "有効期限 (notAfter)"),
            Policy => ("Policy", "ポリシー"),
            RegisteredAt => ("Registered at", "登録日時"),
            Actions => ("Actions", "操作"),
            NotYours => (
                "not yours: details hidden",
                "あなたのものではありません（詳細は非表示）",
            ),
            CopyId => ("Copy ID", "ID をコピー"),
            Copied => ("Copied", "コピーしました"),
            CopyFailed => (
                "Could not copy; select the ID in the title instead.",
                "コピーできませんでした。ID を選択してコピーしてください。",
            ),
            History => ("History", "履歴"),
            HistoryHeading => ("History of certificate", "証明書の履歴"),
            HistoryLoading => ("Loading the history…", "履歴を読み込み中…"),
            HistoryFailed => (
                "The history could not be loaded.",
                "履歴を読み込めませんでした。",
            ),
            HistoryEmpty => (
                "No events recorded for this certificate in the targets you may see.",
                "見られる登録先には、この証明書の記録がありません。",
            ),
            CloseHistory => ("Close history", "履歴を閉じる"),
            Time => ("Time", "日時"),
            Action => ("Action", "操作"),
            Phase => ("Intent / outcome", "予定 / 結果"),
            Result => ("Result", "結果"),
            By => ("By", "実行者"),
            Detail => ("Detail", "詳細"),
            Intent => ("intent", "予定"),
            Outcome => ("outcome", "結果"),
            Ok => ("ok", "成功"),
            FailedEvent => ("failed", "失敗"),
            ExportCsv => ("Export CSV", "CSV に書き出す"),
            ExportHint => (
                "Saves the rows loaded so far; cells that a spreadsheet would run as formulas start with '.",
                "読み込んだ行を保存します。表計算ソフトが数式として実行するセルには先頭に ' を付けます。",
            ),
            ExportFailed => ("The CSV could not be saved:", "CSV を保存できませんでした:"),
            Successor => ("replaced by", "後継"),
        }
    }
}

/// The days-left badge: words as well as colour.
pub fn expiry_badge(expiry: Expiry, lang: Lang) -> String {
    match (expiry, lang) {
        (Expiry::Expired, Lang::En) => "Expired".to_owned(),
        (Expiry::Expired, Lang::Ja) => "期限切れ".to_owned(),
        (Expiry::Within30 { days }, Lang::En) => {
            format!("Within 30 days: {}", days_left(days, lang))
        }
        (Expiry::Within30 { days }, Lang::Ja) => format!("30 日以内: {}", days_left(days, lang)),
        (Expiry::Within90 { days }, Lang::En) => {
            format!("Within 90 days: {}", days_left(days, lang))
        }
        (Expiry::Within90 { days }, Lang::Ja) => format!("90 日以内: {}", days_left(days, lang)),
        (Expiry::Later { days }, _) => days_left(days, lang),
        (Expiry::Unknown, Lang::En) => "Unknown expiry".to_owned(),
        (Expiry::Unknown, Lang::Ja) => "期限不明".to_owned(),
    }
}

fn days_left(days: i64, lang: Lang) -> String {
    match (days, lang) {
        (0, Lang::En) => "less than a day left".to_owned(),
        (0, Lang::Ja) => "残り 1 日未満".to_owned(),
        (1, Lang::En) => "1 day left".to_owned(),
        (n, Lang::En) => format!("{n} days left"),
        (n, Lang::Ja) => format!("残り {n} 日"),
    }
}

/// How many rows are shown, and whether more can be loaded.
pub fn rows_loaded(count: usize, more: bool, lang: Lang) -> String {
    match (more, lang) {
        (false, Lang::En) => format!("{count} shown."),
        (true, Lang::En) => format!("{count} shown; more can be loaded."),
        (false, Lang::Ja) => format!("{count} 件を表示しています。"),
        (true, Lang::Ja) => format!("{count} 件を表示しています。続きがあります。"),
    }
}

/// A ledger action in words.
pub fn action_word(action: LedgerAction, lang: Lang) -> &'static str {
    let (en, ja) = match action {
        LedgerAction::Register => ("register", "登録"),
        LedgerAction::SetStatus => ("status change", "状態の変更"),
        LedgerAction::Delete => ("delete", "削除"),
        LedgerAction::Transfer => ("copy / move", "コピー / 移動"),
        LedgerAction::Adopt => ("adopt", "取り込み"),
        LedgerAction::Rotate => ("rotate", "ローテーション"),
        LedgerAction::Retire => ("retire", "廃止"),
        LedgerAction::Reconcile => ("reconcile", "照合"),
        LedgerAction::Other => ("other", "その他"),
    };
    pick(lang, en, ja)
}

/// Intent or outcome in words.
pub fn phase_word(phase: EventPhase, lang: Lang) -> &'static str {
    match phase {
        EventPhase::Intent => InventoryText::Intent,
        EventPhase::Outcome => InventoryText::Outcome,
    }
    .get(lang)
}
