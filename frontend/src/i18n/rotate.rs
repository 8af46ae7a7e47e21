//! Rotation's words, English and Japanese: fixed texts in [`RotateText`]
//! and the sentences that name the plan and its blockers.

use marshal_shared::KeyType;
use marshal_shared::api::TargetInfo;

use super::manage::list;
use super::{Lang, pick};
use crate::state::manage::{RotateBlocker, RotationPlan};

/// Every fixed text of rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum RotateText {
    Heading,
    Hint,
    Button,
    Making,
    Sending,
    MakingFailed,
    Refused,
    ResultsHeading,
    OldStaysActive,
    NewCredentials,
    SaveKitNow,
    RetireHeading,
    RetireHint,
    RetireButton,
    Endpoint,
    WaitForTargets,
    Busy,
    NotYours,
    TooManyTargets,
    NoPem,
    Unreadable,
}

impl RotateText {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        pick(lang, en, ja)
    }

    fn both(self) -> (&'static str, &'static str) {
        use RotateText::*;
        match self {
            Heading => (
                "Rotate: a new key and certificate",
                "ローテーション: 新しい鍵と証明書",
            ),
            Hint => (
                "Makes a new key and self-signed certificate in this browser with the old certificate's subject and key type, and registers the new certificate (never the key) wherever the old one is yours, with the same policy and thing. The old certificate stays ACTIVE until you retire it.",
                "このブラウザーで、古い証明書と同じサブジェクトと鍵の種類の新しい鍵と自己署名証明書を作り、古い証明書があなたのものである登録先に、同じポリシーとモノで新しい証明書（鍵は送りません）を登録します。古い証明書は廃止するまで ACTIVE のままです。",
            ),
            Button => ("Rotate", "ローテーション"),
            Making => (
                "Making the new key and certificate in this browser…",
                "このブラウザーで新しい鍵と証明書を作成中…",
            ),
            Sending => ("Registering the new certificate…", "新しい証明書を登録中…"),
            MakingFailed => (
                "The new key and certificate could not be made:",
                "新しい鍵と証明書を作れませんでした:",
            ),
            Refused => (
                "The rotation was not done.",
                "ローテーションは実行されませんでした。",
            ),
            ResultsHeading => ("Rotation of certificate", "証明書のローテーション"),
            OldStaysActive => (
                "The old certificate stays ACTIVE: devices keep connecting until you retire it.",
                "古い証明書は ACTIVE のままです。廃止するまでデバイスは接続し続けられます。",
            ),
            NewCredentials => ("The new credentials", "新しい認証情報"),
            SaveKitNow => (
                "Download the device kit now: the new private key exists only in this page and is lost when you close or reload it, or sign out.",
                "今すぐデバイスキットをダウンロードしてください。新しい秘密鍵はこのページの中にしかなく、閉じる・再読み込みする・サインアウトすると失われます。",
            ),
            RetireHeading => ("Retire the old certificate", "古い証明書を廃止"),
            RetireHint => (
                "Once the devices use the new certificate: deactivate and delete the old one where the new one was registered.",
                "デバイスが新しい証明書を使うようになったら、新しい証明書を登録した登録先で古い証明書を無効化・削除します。",
            ),
            RetireButton => ("Retire old certificate", "古い証明書を廃止"),
            Endpoint => ("Endpoint or error", "エンドポイントまたはエラー"),
            WaitForTargets => (
                "Waiting for the list of targets…",
                "登録先の一覧を待っています…",
            ),
            Busy => (
                "Wait for the current change or rotation to finish.",
                "実行中の変更またはローテーションが終わるまでお待ちください。",
            ),
            NotYours => (
                "The certificate is not yours in any target, so it cannot be rotated here.",
                "この証明書はどの登録先でもあなたのものではないため、ローテーションできません。",
            ),
            TooManyTargets => (
                "The certificate is yours in more targets than one request may name.",
                "あなたの証明書がある登録先が、1 回のリクエストの上限より多くあります。",
            ),
            NoPem => (
                "The server did not send the old certificate, so its subject and key type cannot be read.",
                "サーバーが古い証明書を送らなかったため、サブジェクトと鍵の種類を読み取れません。",
            ),
            Unreadable => (
                "The old certificate the server sent could not be read, or is not the one looked up.",
                "サーバーが送った古い証明書を読み取れないか、検索した証明書ではありません。",
            ),
        }
    }
}

/// Why "rotate" cannot be pressed, in words.
pub fn rotate_blocker(blocker: &RotateBlocker, lang: Lang) -> String {
    match (blocker, lang) {
        (RotateBlocker::WaitForTargets, _) => RotateText::WaitForTargets.get(lang).to_owned(),
        (RotateBlocker::Busy, _) => RotateText::Busy.get(lang).to_owned(),
        (RotateBlocker::NotYours, _) => RotateText::NotYours.get(lang).to_owned(),
        (RotateBlocker::TooManyTargets, _) => RotateText::TooManyTargets.get(lang).to_owned(),
        (RotateBlocker::NoPem, _) => RotateText::NoPem.get(lang).to_owned(),
        (RotateBlocker::Unreadable, _) => RotateText::Unreadable.get(lang).to_owned(),
        (RotateBlocker::KeyType(key), Lang::En) => format!(
            "The old certificate's key ({key}) is not a type the page makes (ECDSA P-256 or P-384, RSA 2048, 3072 or 4096)."
        ),
        (RotateBlocker::KeyType(key), Lang::Ja) => format!(
            "古い証明書の鍵（{key}）は、このページで作れる種類（ECDSA P-256・P-384、RSA 2048・3072・4096）ではありません。"
        ),
        (RotateBlocker::Subject(why), Lang::En) => {
            format!("The old certificate's subject cannot be used for a new one: {why}")
        }
        (RotateBlocker::Subject(why), Lang::Ja) => {
            format!("古い証明書のサブジェクトは新しい証明書に使えません: {why}")
        }
    }
}

/// What "rotate" will do, in sentences.
pub fn plan_sentences(plan: &RotationPlan, targets: &[TargetInfo], lang: Lang) -> Vec<String> {
    let r = &plan.request;
    let mut subject = format!("CN={}", r.common_name);
    for (key, value) in [
        ("O", &r.organization),
        ("OU", &r.organizational_unit),
        ("C", &r.country),
    ] {
        if let Some(value) = value {
            subject.push_str(&format!(", {key}={value}"));
        }
    }
    let key = match plan.key_type {
        KeyType::EcP256 => "ECDSA P-256",
        KeyType::EcP384 => "ECDSA P-384",
        KeyType::Rsa2048 => "RSA 2048",
        KeyType::Rsa3072 => "RSA 3072",
        KeyType::Rsa4096 => "RSA 4096",
    };
    let targets = list(targets, lang);
    let days = r.validity_days;
    let mut out = vec![match lang {
        Lang::En => format!(
            "New {key} key and certificate for {subject}, valid {days} days, registered in {targets}."
        ),
        Lang::Ja => format!(
            "{subject} の新しい {key} の鍵と証明書（有効期間 {days} 日）を作り、{targets} に登録します。"
        ),
    }];
    if !plan.dropped.is_empty() {
        let dropped = plan.dropped.join(", ");
        out.push(match lang {
            Lang::En => format!(
                "Not carried over from the old subject (the page makes CN, O, OU and C only): {dropped}."
            ),
            Lang::Ja => format!(
                "古いサブジェクトのうち次は引き継ぎません（このページが作れるのは CN・O・OU・C だけです）: {dropped}。"
            ),
        });
    }
    out
}
