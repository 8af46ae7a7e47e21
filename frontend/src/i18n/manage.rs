//! The manage section's words, English and Japanese: fixed texts in
//! [`ManageText`] (one `match`, so a missing translation does not compile)
//! and the sentences that name certificates and targets.

use marshal_shared::api::{TargetInfo, TransferMode};

use super::{Lang, pick};
use crate::state::manage::{ChangeKind, Confirmation, FileProblem, IdProblem, short_id};

/// Every fixed text of the manage section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ManageText {
    Heading,
    Intro,
    CertificateId,
    IdHint,
    LookUp,
    LookingUp,
    UseCurrent,
    FileLabel,
    DropHere,
    FileHint,
    ReadingFile,
    IdFromFile,
    KeySkipped,
    FirstOfSeveral,
    LookupFailed,
    Refreshing,
    InTargets,
    Target,
    Status,
    Policies,
    Things,
    NotRegistered,
    CouldNotCheck,
    Nothing,
    NotRegisteredAnywhere,
    Yours,
    NotYours,
    NotYoursHint,
    NoneYours,
    AdoptHeading,
    AdoptHint,
    AdoptTargets,
    AdoptGroup,
    AdoptButton,
    SelectAdoptTargets,
    Actions,
    ActionsHint,
    Activate,
    Deactivate,
    Delete,
    TransferHeading,
    TransferHint,
    Destinations,
    NoDestinations,
    Policy,
    ThingName,
    ThingNameHint,
    Mode,
    ModeCopy,
    ModeMoveDeactivate,
    ModeMoveDelete,
    CopyButton,
    MoveButton,
    ConfirmHeading,
    Cancel,
    Sending,
    ChangeFailed,
    OutcomesHeading,
    Result,
    Detail,
    Done,
    Failed,
    Source,
    Destination,
    RegisteredNow,
    RegisteredAlready,
    SourceKept,
    WaitForTargets,
    LookUpFirst,
    ChangeInFlight,
    SelectTargets,
    TooManyTargets,
    SelectOneSource,
    ChooseDestinations,
    NoPolicy,
    ThingNameRule,
    IdEmpty,
    IdNotHex,
    FileTooLarge,
    FileEmpty,
    FileKeyOnly,
    FilePkcs12,
    FileNotACertificate,
    FileUnreadable,
    RotateFirst,
}

impl ManageText {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        pick(lang, en, ja)
    }

    fn both(self) -> (&'static str, &'static str) {
        use ManageText::*;
        match self {
            Heading => (
                "3. Manage a registered certificate",
                "3. 登録済みの証明書を管理",
            ),
            Intro => (
                "Find a certificate in every target you may use, then activate, deactivate, delete, copy or move it.",
                "使用できるすべての登録先で証明書を探し、有効化・無効化・削除・コピー・移動ができます。",
            ),
            CertificateId => ("Certificate ID", "証明書 ID"),
            IdHint => (
                "64 hexadecimal digits, as AWS IoT shows them; spaces and colons are ignored.",
                "AWS IoT が表示する 16 進数 64 桁です。空白とコロンは無視されます。",
            ),
            LookUp => ("Look up", "検索"),
            LookingUp => (
                "Looking the certificate up in every target…",
                "すべての登録先で証明書を検索中…",
            ),
            UseCurrent => ("Use my current certificate", "いま作った証明書を使う"),
            FileLabel => ("Certificate file", "証明書ファイル"),
            DropHere => (
                "Drop a certificate file here (.pem, .crt, .cer, .der), or choose one:",
                "証明書ファイル（.pem .crt .cer .der）をここにドロップするか、選んでください:",
            ),
            FileHint => (
                "Only the certificate is read, in this page; a private key in the file is skipped, never read or kept.",
                "読み取るのは証明書だけで、このページの中で処理します。ファイルに秘密鍵があっても読み飛ばし、読み取りも保持もしません。",
            ),
            ReadingFile => ("Reading the file…", "ファイルを読み取り中…"),
            IdFromFile => ("Certificate ID read from", "証明書 ID の読み取り元:"),
            KeySkipped => (
                "The file also holds a private key: it was skipped, not read.",
                "ファイルには秘密鍵も含まれていましたが、読み飛ばしました（読み取っていません）。",
            ),
            FirstOfSeveral => (
                "The file holds several certificates; the first one is used.",
                "ファイルに複数の証明書があるため、最初の証明書を使います。",
            ),
            LookupFailed => (
                "Could not look the certificate up.",
                "証明書を検索できませんでした。",
            ),
            Refreshing => (
                "Refreshing the table after the change…",
                "変更後の状態を読み込み直しています…",
            ),
            InTargets => ("in each target", "の各登録先での状態"),
            Target => ("Target", "登録先"),
            Status => ("Status", "状態"),
            Policies => ("Policies", "ポリシー"),
            Things => ("Things", "モノ"),
            NotRegistered => ("not registered", "未登録"),
            CouldNotCheck => ("could not check", "確認できません"),
            Nothing => ("none", "なし"),
            NotRegisteredAnywhere => (
                "The certificate is not registered in any target you may use.",
                "使用できる登録先のどこにも、この証明書は登録されていません。",
            ),
            Yours => ("yours", "自分の管理"),
            NotYours => ("not yours", "管理外"),
            NotYoursHint => (
                "Where it is not yours, you see only that it is there and its status, and cannot change it. A certificate registered outside Marshal must be adopted by an administrator of the target before anyone can change it.",
                "「管理外」の登録先では、証明書があることと状態だけが表示され、変更はできません。Marshal の外で登録された証明書は、登録先の管理者が取り込むまで誰も変更できません。",
            ),
            NoneYours => (
                "You manage this certificate in none of these targets, so there is nothing you can change here.",
                "この証明書を管理できる登録先が無いため、ここで変更できるものはありません。",
            ),
            AdoptHeading => (
                "Adopt into Marshal (administrators)",
                "Marshal に取り込む（管理者）",
            ),
            AdoptHint => (
                "Nobody manages this certificate where it was registered outside Marshal. Adopting it records you (and the group you choose) as its owner there, with the things attached to it, so it can be changed through Marshal. Nothing changes in AWS.",
                "Marshal の外で登録された証明書は、誰も管理していません。取り込むと、あなた（と選んだグループ）がその登録先での所有者として、関連付けられたモノと一緒に記録され、Marshal で変更できるようになります。AWS では何も変わりません。",
            ),
            AdoptTargets => ("Targets where it is not managed", "管理されていない登録先"),
            AdoptGroup => ("Owner group", "所有グループ"),
            AdoptButton => ("Adopt…", "取り込む…"),
            SelectAdoptTargets => (
                "Choose at least one target to adopt it in.",
                "取り込む登録先を 1 つ以上選んでください。",
            ),
            Actions => ("Change the selected targets", "選んだ登録先を変更"),
            ActionsHint => (
                "Select the targets where the certificate is registered and yours, then choose what to do. You confirm before anything is sent.",
                "証明書が登録されていて自分の管理である登録先を選び、操作を選んでください。送信する前に確認があります。",
            ),
            Activate => ("Activate…", "有効化…"),
            Deactivate => ("Deactivate…", "無効化…"),
            Delete => ("Delete…", "削除…"),
            TransferHeading => (
                "Copy or move to other targets",
                "ほかの登録先へコピー・移動",
            ),
            TransferHint => (
                "Select exactly one target above as the source. Moving registers the certificate in every destination first, and touches the source only if all of them succeeded.",
                "上で移動元の登録先をちょうど 1 つ選んでください。移動では先にすべての移動先へ登録し、すべて成功した場合にだけ移動元を変更します。",
            ),
            Destinations => (
                "Destinations (where it is not registered)",
                "コピー・移動先（未登録の登録先）",
            ),
            NoDestinations => (
                "No target is free to receive it: it is registered everywhere else, or the others could not be checked.",
                "受け入れ可能な登録先がありません。ほかのすべてに登録済みか、確認できませんでした。",
            ),
            Policy => ("Policy at the destinations", "コピー・移動先のポリシー"),
            ThingName => (
                "Thing name at the destinations",
                "コピー・移動先のモノの名前",
            ),
            ThingNameHint => (
                "Optional. Empty: the certificate's common name.",
                "任意。空欄の場合は証明書のコモンネームを使います。",
            ),
            Mode => ("What happens at the source", "移動元の扱い"),
            ModeCopy => ("Copy: leave it as it is", "コピー: そのまま残す"),
            ModeMoveDeactivate => (
                "Move: deactivate it at the source",
                "移動: 移動元では無効化する",
            ),
            ModeMoveDelete => (
                "Move: delete it from the source",
                "移動: 移動元からは削除する",
            ),
            CopyButton => ("Copy…", "コピー…"),
            MoveButton => ("Move…", "移動…"),
            ConfirmHeading => ("Please confirm", "確認してください"),
            Cancel => ("Cancel", "キャンセル"),
            Sending => ("Sending the change…", "変更を送信中…"),
            ChangeFailed => (
                "The change could not be completed. The table below shows the certificate as it is now.",
                "変更を完了できませんでした。下の表は現在の証明書の状態です。",
            ),
            OutcomesHeading => ("What happened", "実行結果"),
            Result => ("Result", "結果"),
            Detail => ("Details", "詳細"),
            Done => ("done", "完了"),
            Failed => ("failed", "失敗"),
            Source => ("source", "移動元"),
            Destination => ("destination", "移動先"),
            RegisteredNow => ("registered", "登録しました"),
            RegisteredAlready => ("was already registered", "登録済みでした"),
            SourceKept => (
                "A destination failed, so the source was left as it was.",
                "移動先のどこかで失敗したため、移動元はそのままにしました。",
            ),
            WaitForTargets => (
                "Waiting for the list of targets…",
                "登録先の一覧を待っています…",
            ),
            LookUpFirst => (
                "Look a certificate up first.",
                "先に証明書を検索してください。",
            ),
            ChangeInFlight => (
                "Wait for the current change to finish.",
                "実行中の変更が終わるまでお待ちください。",
            ),
            SelectTargets => (
                "Select at least one target where the certificate is registered.",
                "証明書が登録されている登録先を 1 つ以上選んでください。",
            ),
            TooManyTargets => (
                "Too many targets for one request; the server allows",
                "1 回のリクエストの登録先が多すぎます。サーバーの上限:",
            ),
            SelectOneSource => (
                "Select exactly one target above as the source.",
                "上で移動元の登録先をちょうど 1 つ選んでください。",
            ),
            ChooseDestinations => (
                "Choose at least one destination.",
                "コピー・移動先を 1 つ以上選んでください。",
            ),
            NoPolicy => (
                "No policy is allowed for you, so nothing can be attached at a destination.",
                "許可されたポリシーが無いため、コピー・移動先で割り当てられません。",
            ),
            ThingNameRule => (
                "A thing name is 1 to 128 letters, digits, ':', '_' or '-'.",
                "モノの名前は英数字と ':' '_' '-' の 1〜128 文字です。",
            ),
            IdEmpty => ("Enter a certificate ID.", "証明書 ID を入力してください。"),
            IdNotHex => (
                "A certificate ID has only the digits 0–9 and the letters a–f.",
                "証明書 ID に使えるのは数字 0〜9 と英字 a〜f だけです。",
            ),
            FileTooLarge => (
                "This file is over 1 MiB: too large to be a certificate.",
                "ファイルが 1 MiB を超えています。証明書としては大きすぎます。",
            ),
            FileEmpty => ("The file is empty.", "ファイルが空です。"),
            FileKeyOnly => (
                "This file holds a private key and no certificate. A key is not needed here: choose the certificate file instead.",
                "このファイルには秘密鍵だけで、証明書がありません。ここでは鍵は不要です。証明書のファイルを選んでください。",
            ),
            FilePkcs12 => (
                "This is a PKCS#12 file (.p12/.pfx), which holds a private key. Choose the certificate file (.pem, .crt, .cer, .der) instead.",
                "PKCS#12 ファイル（.p12/.pfx）で、秘密鍵を含んでいます。代わりに証明書ファイル（.pem .crt .cer .der）を選んでください。",
            ),
            FileNotACertificate => (
                "This file is not a certificate (PEM or DER).",
                "このファイルは証明書（PEM または DER）ではありません。",
            ),
            FileUnreadable => (
                "The browser could not read the file.",
                "ブラウザーがファイルを読み取れませんでした。",
            ),
            RotateFirst => (
                "Rotate the certificate first: the old one can be retired only where its successor was registered.",
                "先にローテーションしてください。古い証明書は、後継が登録された登録先でだけ廃止できます。",
            ),
        }
    }
}

/// What is wrong with a typed certificate ID.
pub fn id_problem(problem: IdProblem, lang: Lang) -> String {
    match (problem, lang) {
        (IdProblem::Empty, _) => ManageText::IdEmpty.get(lang).to_owned(),
        (IdProblem::NotHex, _) => ManageText::IdNotHex.get(lang).to_owned(),
        (IdProblem::WrongLength(n), Lang::En) => {
            format!("A certificate ID is 64 hexadecimal digits; this one has {n}.")
        }
        (IdProblem::WrongLength(n), Lang::Ja) => {
            format!("証明書 ID は 16 進数 64 桁です（入力は {n} 桁）。")
        }
    }
}

/// Why a file gave no certificate ID.
pub fn file_problem(problem: &FileProblem, lang: Lang) -> &'static str {
    match problem {
        FileProblem::TooLarge => ManageText::FileTooLarge,
        FileProblem::Empty => ManageText::FileEmpty,
        FileProblem::KeyOnly => ManageText::FileKeyOnly,
        FileProblem::Pkcs12 => ManageText::FilePkcs12,
        FileProblem::NotACertificate { .. } => ManageText::FileNotACertificate,
        FileProblem::Unreadable { .. } => ManageText::FileUnreadable,
    }
    .get(lang)
}

/// The confirm button's words for `kind`.
pub fn confirm_label(kind: ChangeKind, lang: Lang) -> &'static str {
    let (en, ja) = match kind {
        ChangeKind::Activate => ("Yes, activate", "有効化する"),
        ChangeKind::Deactivate => ("Yes, deactivate", "無効化する"),
        ChangeKind::Delete => ("Yes, delete", "削除する"),
        ChangeKind::Transfer(TransferMode::Copy) => ("Yes, copy", "コピーする"),
        ChangeKind::Transfer(_) => ("Yes, move", "移動する"),
        ChangeKind::Adopt => ("Yes, adopt", "取り込む"),
        ChangeKind::Retire => ("Yes, retire the old certificate", "古い証明書を廃止する"),
    };
    pick(lang, en, ja)
}

/// A target as sentences name it: `dev-tokyo (123456789012, ap-northeast-1)`.
pub fn target_label(target: &TargetInfo) -> String {
    if target.account_id.is_empty() {
        target.name.clone()
    } else {
        format!("{} ({}, {})", target.name, target.account_id, target.region)
    }
}

/// `a`, `a and b`, `a, b and c` (Japanese: `a と b`, `a、b、c`).
pub fn list(targets: &[TargetInfo], lang: Lang) -> String {
    let labels: Vec<String> = targets.iter().map(target_label).collect();
    match (labels.as_slice(), lang) {
        ([], _) => String::new(),
        ([one], _) => one.clone(),
        ([a, b], Lang::En) => format!("{a} and {b}"),
        ([a, b], Lang::Ja) => format!("{a} と {b}"),
        ([init @ .., last], Lang::En) => format!("{} and {last}", init.join(", ")),
        (all, Lang::Ja) => all.join("、"),
    }
}

/// The confirmation panel's sentences: the question first, then what follows from it.
pub fn confirmation(c: &Confirmation, lang: Lang) -> Vec<String> {
    let id = short_id(&c.certificate_id);
    let targets = list(&c.targets, lang);
    let to = list(&c.destinations, lang);
    let policy = c.policy.as_deref().unwrap_or_default();
    let copy = c.kind == ChangeKind::Transfer(TransferMode::Copy);
    let at_destinations = match (&c.thing_name, lang) {
        (Some(thing), Lang::En) => {
            format!("In each destination it gets policy {policy} and thing {thing}.")
        }
        (None, Lang::En) => format!(
            "In each destination it gets policy {policy} and a thing named after its common name."
        ),
        (thing, Lang::Ja) => {
            let place = if copy { "コピー先" } else { "移動先" };
            match thing {
                Some(thing) => {
                    format!("{place}ではポリシー {policy} とモノ {thing} を関連付けます。")
                }
                None => format!(
                    "{place}ではポリシー {policy} と、証明書のコモンネームを名前とするモノを関連付けます。"
                ),
            }
        }
    };
    let kept_if_failed = match lang {
        Lang::En => format!("If any destination fails, {targets} is left as it is."),
        Lang::Ja => format!("移動先のどこかで失敗した場合、{targets} はそのまま残します。"),
    };
    let owners = match (&c.owner_group, lang) {
        (Some(group), Lang::En) => format!("you and the group {group}"),
        (None, Lang::En) => "you alone".to_owned(),
        (Some(group), Lang::Ja) => format!("あなたとグループ {group}"),
        (None, Lang::Ja) => "あなただけ".to_owned(),
    };
    match (c.kind, lang) {
        (ChangeKind::Retire, Lang::En) => vec![
            format!("Retire the old certificate {id} in {targets}?"),
            "It is deactivated and deleted there (its policies and things detached first), only where its successor is registered and ACTIVE.".to_owned(),
            "Devices still using the old certificate will no longer connect: install the new device kit on them first. This cannot be undone.".to_owned(),
        ],
        (ChangeKind::Retire, Lang::Ja) => vec![
            format!("古い証明書 {id} を {targets} で廃止しますか？"),
            "後継の証明書が登録され ACTIVE な登録先でだけ、無効化して削除します（先にポリシーとモノの関連付けを解除します）。".to_owned(),
            "古い証明書を使っているデバイスは接続できなくなります。先に新しいデバイスキットを入れてください。この操作は元に戻せません。".to_owned(),
        ],
        (ChangeKind::Adopt, Lang::En) => vec![
            format!("Adopt certificate {id} in {targets}?"),
            format!(
                "Marshal records {owners} as its owner there, with the things attached to it. Nothing changes in AWS."
            ),
        ],
        (ChangeKind::Adopt, Lang::Ja) => vec![
            format!("証明書 {id} を {targets} で取り込みますか？"),
            format!(
                "そこでの所有者として {owners} を、関連付けられたモノと一緒に記録します。AWS では何も変わりません。"
            ),
        ],
        (ChangeKind::Activate, Lang::En) => vec![
            format!("Activate certificate {id} in {targets}?"),
            "Devices using it will be able to connect there.".to_owned(),
        ],
        (ChangeKind::Activate, Lang::Ja) => vec![
            format!("証明書 {id} を {targets} で有効化しますか？"),
            "この証明書を使うデバイスがそこで接続できるようになります。".to_owned(),
        ],
        (ChangeKind::Deactivate, Lang::En) => vec![
            format!("Deactivate certificate {id} in {targets}?"),
            "Devices using it will no longer connect there until it is activated again.".to_owned(),
        ],
        (ChangeKind::Deactivate, Lang::Ja) => vec![
            format!("証明書 {id} を {targets} で無効化しますか？"),
            "この証明書を使うデバイスは、再び有効化するまでそこに接続できなくなります。".to_owned(),
        ],
        (ChangeKind::Delete, Lang::En) => vec![
            format!("Delete certificate {id} from {targets}?"),
            "Its policies and things are detached first.".to_owned(),
            "Devices using it will no longer connect. This cannot be undone.".to_owned(),
        ],
        (ChangeKind::Delete, Lang::Ja) => vec![
            format!("証明書 {id} を {targets} から削除しますか？"),
            "先にポリシーとモノの関連付けを解除します。".to_owned(),
            "この証明書を使うデバイスは接続できなくなります。この操作は元に戻せません。".to_owned(),
        ],
        (ChangeKind::Transfer(TransferMode::Copy), Lang::En) => vec![
            format!("Copy certificate {id} from {targets} to {to}?"),
            at_destinations,
            format!("It stays as it is in {targets}."),
        ],
        (ChangeKind::Transfer(TransferMode::Copy), Lang::Ja) => vec![
            format!("証明書 {id} を {targets} から {to} にコピーしますか？"),
            at_destinations,
            format!("{targets} の証明書はそのまま残ります。"),
        ],
        (ChangeKind::Transfer(mode), Lang::En) => vec![
            format!("Move certificate {id} from {targets} to {to}?"),
            at_destinations,
            if mode == TransferMode::MoveDelete {
                format!(
                    "Once it is ACTIVE in every destination, it is deleted from {targets}, its policies and things detached: devices still connecting there will be refused. This cannot be undone."
                )
            } else {
                format!(
                    "Once it is ACTIVE in every destination, it is deactivated in {targets}: devices still connecting there will be refused."
                )
            },
            kept_if_failed,
        ],
        (ChangeKind::Transfer(mode), Lang::Ja) => vec![
            format!("証明書 {id} を {targets} から {to} に移動しますか？"),
            at_destinations,
            if mode == TransferMode::MoveDelete {
                format!(
                    "すべての移動先で ACTIVE になった後、{targets} からは削除します（ポリシーとモノの関連付けも解除します）。{targets} に接続しているデバイスは拒否されます。この操作は元に戻せません。"
                )
            } else {
                format!(
                    "すべての移動先で ACTIVE になった後、{targets} では無効化します。{targets} に接続しているデバイスは拒否されます。"
                )
            },
            kept_if_failed,
        ],
    }
}
