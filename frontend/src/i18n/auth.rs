//! Sign-in's words, English and Japanese: the bar's fixed texts in
//! [`AuthText`] (one `match`, so a missing translation does not compile),
//! and the sentences for what went wrong.

use super::{Lang, pick};
use crate::auth::{SignInNeed, SignInProblem, TokenProblem};
use crate::runtime_config::ConfigProblem;

/// Every fixed text of the sign-in bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum AuthText {
    Region,
    Prompt,
    SignIn,
    SignInAgain,
    Waiting,
    OpenAgain,
    Exchanging,
    SignedInAs,
    SignOut,
    Expired,
    ExpiredAs,
    ConfigBroken,
    AskDeployer,
    PopupDone,
    OpenPage,
}

impl AuthText {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        pick(lang, en, ja)
    }

    fn both(self) -> (&'static str, &'static str) {
        use AuthText::*;
        match self {
            Region => ("Sign-in", "サインイン"),
            Prompt => (
                "Sign in to load your targets and to register or manage certificates. Keys are made and imported here without signing in.",
                "登録先の読み込みと、証明書の登録・管理にはサインインが必要です。鍵の作成と読み込みはサインインなしでできます。",
            ),
            SignIn => ("Sign in", "サインイン"),
            SignInAgain => ("Sign in again", "再度サインイン"),
            Waiting => (
                "Finish signing in using the window that opened.",
                "開いたウィンドウでサインインを完了してください。",
            ),
            OpenAgain => (
                "Open the sign-in window again",
                "サインイン画面をもう一度開く",
            ),
            Exchanging => ("Signing in…", "サインイン中…"),
            SignedInAs => ("Signed in as", "サインイン中:"),
            SignOut => ("Sign out", "サインアウト"),
            Expired => (
                "Your session has expired. Sign in again to continue: your credentials stay on this page.",
                "セッションの有効期限が切れました。続けるには再度サインインしてください。認証情報はこのページに残っています。",
            ),
            ExpiredAs => ("Was signed in as", "サインインしていたユーザー:"),
            ConfigBroken => (
                "This page's configuration (config.json) cannot be used, so it does not call the API:",
                "このページの設定（config.json）を使えないため、API を呼び出しません:",
            ),
            AskDeployer => (
                "Ask whoever deployed Marshal to run `cargo xtask deploy-page` again.",
                "Marshal をデプロイした担当者に `cargo xtask deploy-page` の再実行を依頼してください。",
            ),
            PopupDone => (
                "Sign-in finished: this window can be closed.",
                "サインインが完了しました。このウィンドウは閉じてかまいません。",
            ),
            OpenPage => ("Open Marshal", "Marshal を開く"),
        }
    }
}

/// Why an API call needs a sign-in first.
pub fn sign_in_need(need: SignInNeed, lang: Lang) -> &'static str {
    let (en, ja) = match need {
        SignInNeed::SignedOut => (
            "Sign in first (at the top of the page): the API answers only signed-in users. Nothing was sent.",
            "先にサインインしてください（ページ上部）。API はサインインしたユーザーにだけ応答します。何も送信していません。",
        ),
        SignInNeed::Expired => (
            "Your session has expired. Sign in again at the top of the page, then try again: your credentials stay on this page. Nothing was sent.",
            "セッションの有効期限が切れました。ページ上部で再度サインインしてから、もう一度お試しください。認証情報はこのページに残っています。何も送信していません。",
        ),
        SignInNeed::Rejected => (
            "The API did not accept your sign-in (it expired or was revoked). Sign in again at the top of the page, then try again: your credentials stay on this page.",
            "API がサインインを受け付けませんでした（有効期限切れか取り消し）。ページ上部で再度サインインしてから、もう一度お試しください。認証情報はこのページに残っています。",
        ),
        SignInNeed::NotConfigured => (
            "The API needs a signed-in user, but this page has no sign-in configured (config.json needs auth.clientId and auth.signInUrl). Ask whoever deployed Marshal.",
            "API はサインインしたユーザーを必要としますが、このページにはサインインが設定されていません（config.json に auth.clientId と auth.signInUrl が必要です）。Marshal をデプロイした担当者に確認してください。",
        ),
    };
    pick(lang, en, ja)
}

/// An API call not sent because `config.json` is unusable.
pub fn page_config_unusable(lang: Lang) -> &'static str {
    pick(
        lang,
        "This page's configuration cannot be used (see the notice at the top), so nothing was sent.",
        "このページの設定を使えないため（ページ上部の説明を参照）、何も送信していません。",
    )
}

/// What is wrong with `config.json`.
pub fn config_problem(problem: &ConfigProblem, lang: Lang) -> String {
    match (problem, lang) {
        (ConfigProblem::Unavailable { status }, Lang::En) => {
            format!("config.json could not be loaded (HTTP {status}).")
        }
        (ConfigProblem::Unavailable { status }, Lang::Ja) => {
            format!("config.json を読み込めませんでした（HTTP {status}）。")
        }
        (ConfigProblem::Unreachable { detail }, Lang::En) => {
            format!("config.json could not be loaded ({detail}).")
        }
        (ConfigProblem::Unreachable { detail }, Lang::Ja) => {
            format!("config.json を読み込めませんでした（{detail}）。")
        }
        (ConfigProblem::NotJson, Lang::En) => {
            "config.json is not the JSON object deploy-page writes.".to_owned()
        }
        (ConfigProblem::NotJson, Lang::Ja) => {
            "config.json が deploy-page の書き出す JSON オブジェクトではありません。".to_owned()
        }
        (ConfigProblem::ApiUrl(url), Lang::En) => {
            format!("its apiUrl, “{url}”, is not an http(s) address.")
        }
        (ConfigProblem::ApiUrl(url), Lang::Ja) => {
            format!("apiUrl の「{url}」は http(s) のアドレスではありません。")
        }
        (ConfigProblem::SignInUrl(url), Lang::En) => {
            format!("its auth.signInUrl, “{url}”, is not an http(s) address.")
        }
        (ConfigProblem::SignInUrl(url), Lang::Ja) => {
            format!("auth.signInUrl の「{url}」は http(s) のアドレスではありません。")
        }
        (ConfigProblem::HalfSignIn, Lang::En) => {
            "it sets only one of auth.clientId and auth.signInUrl; sign-in needs both.".to_owned()
        }
        (ConfigProblem::HalfSignIn, Lang::Ja) => {
            "auth.clientId と auth.signInUrl の片方だけが設定されています。サインインには両方が必要です。"
                .to_owned()
        }
    }
}

/// Why signing in did not work, and what to do.
pub fn sign_in_problem(problem: &SignInProblem, lang: Lang) -> String {
    let fixed = |en: &str, ja: &str| pick_owned(lang, en, ja);
    match problem {
        SignInProblem::PopupBlocked => fixed(
            "The browser blocked the sign-in window. Allow pop-ups for this page (the icon at the end of the address bar), then press “Sign in” again.",
            "ブラウザーがサインイン用のウィンドウをブロックしました。このページのポップアップを許可してから（アドレスバー右端のアイコン）、もう一度「サインイン」を押してください。",
        ),
        SignInProblem::SignOutPopupBlocked => fixed(
            "You are signed out of this page, but the browser blocked the window that also ends your session at the sign-in provider, so the next “Sign in” in this browser may not ask for a password. Allow pop-ups for this page, or sign out at the provider.",
            "このページからはサインアウトしましたが、サインインプロバイダー側のセッションも終了するためのウィンドウをブラウザーがブロックしました。このブラウザーで次に「サインイン」するとき、パスワードを求められない場合があります。このページのポップアップを許可するか、プロバイダーでサインアウトしてください。",
        ),
        SignInProblem::NoRandomness => fixed(
            "This browser gave no random numbers, which a safe sign-in needs. Try another browser.",
            "このブラウザーは安全なサインインに必要な乱数を提供しませんでした。別のブラウザーをお試しください。",
        ),
        SignInProblem::StateMismatch => fixed(
            "A sign-in answer arrived that this page did not ask for; it was ignored. Finish signing in using the window this page opened, or press “Sign in” again.",
            "このページが要求していないサインインの応答が届いたため、無視しました。このページが開いたウィンドウでサインインを完了するか、もう一度「サインイン」を押してください。",
        ),
        SignInProblem::Provider { error, .. } if error == "access_denied" => fixed(
            "Sign-in was cancelled or refused.",
            "サインインがキャンセルされたか、拒否されました。",
        ),
        SignInProblem::Provider { error, description }
        | SignInProblem::TokenRefused { error, description } => {
            let why = description.as_deref().unwrap_or(error);
            match lang {
                Lang::En => {
                    format!("The sign-in provider refused: {why} ({error}). Press “Sign in” again.")
                }
                Lang::Ja => format!(
                    "サインインのプロバイダーが拒否しました: {why}（{error}）。もう一度「サインイン」を押してください。"
                ),
            }
        }
        SignInProblem::NoCode => fixed(
            "The sign-in provider sent no code back. Press “Sign in” again.",
            "サインインのプロバイダーからコードが返されませんでした。もう一度「サインイン」を押してください。",
        ),
        SignInProblem::TokenEndpoint { status } => match lang {
            Lang::En => format!(
                "The sign-in provider answered HTTP {status} instead of a token. Try again later."
            ),
            Lang::Ja => format!(
                "サインインのプロバイダーがトークンではなく HTTP {status} を返しました。しばらくしてからお試しください。"
            ),
        },
        SignInProblem::Unreachable { detail } => match lang {
            Lang::En => format!(
                "Could not reach the sign-in provider ({detail}). Check the connection, then press “Sign in” again."
            ),
            Lang::Ja => format!(
                "サインインのプロバイダーに接続できませんでした（{detail}）。接続を確認してから、もう一度「サインイン」を押してください。"
            ),
        },
        SignInProblem::BadToken(TokenProblem::Missing | TokenProblem::Malformed) => fixed(
            "The sign-in provider's answer holds no readable id token.",
            "サインインのプロバイダーの応答に、読み取れる ID トークンがありません。",
        ),
        SignInProblem::BadToken(TokenProblem::WrongAudience) => fixed(
            "The sign-in provider issued a token for another application (its audience is not this page's client ID).",
            "サインインのプロバイダーが別のアプリケーション向けのトークンを発行しました（audience がこのページのクライアント ID ではありません）。",
        ),
        SignInProblem::BadToken(TokenProblem::NoExpiry) => fixed(
            "The sign-in provider's id token has no expiry time.",
            "サインインのプロバイダーの ID トークンに有効期限がありません。",
        ),
        SignInProblem::BadToken(TokenProblem::Expired) => fixed(
            "The id token arrived already expired: check this computer's clock, then sign in again.",
            "ID トークンが届いた時点で期限切れでした。このコンピューターの時計を確認してから、再度サインインしてください。",
        ),
    }
}

fn pick_owned(lang: Lang, en: &str, ja: &str) -> String {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
    .to_owned()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Every sentence exists in both languages and they differ.
    fn check_both(en: &str, ja: &str) {
        assert!(!en.is_empty() && !ja.is_empty());
        assert_ne!(en, ja);
        assert!(
            !en.contains('{') && !ja.contains('{'),
            "unfilled: {en} / {ja}"
        );
    }

    #[test]
    fn every_sign_in_text_has_words_in_both_languages() {
        use AuthText::*;
        for text in [
            Region,
            Prompt,
            SignIn,
            SignInAgain,
            Waiting,
            OpenAgain,
            Exchanging,
            SignedInAs,
            SignOut,
            Expired,
            ExpiredAs,
            ConfigBroken,
            AskDeployer,
            PopupDone,
            OpenPage,
        ] {
            check_both(text.get(Lang::En), text.get(Lang::Ja));
        }
        for need in [
            SignInNeed::SignedOut,
            SignInNeed::Expired,
            SignInNeed::Rejected,
            SignInNeed::NotConfigured,
        ] {
            check_both(sign_in_need(need, Lang::En), sign_in_need(need, Lang::Ja));
        }
        check_both(
            page_config_unusable(Lang::En),
            page_config_unusable(Lang::Ja),
        );
    }

    #[test]
    fn problems_are_sentences_with_their_details() {
        let provider = |error: &str| SignInProblem::Provider {
            error: error.to_owned(),
            description: None,
        };
        let problems = [
            SignInProblem::PopupBlocked,
            SignInProblem::NoRandomness,
            SignInProblem::StateMismatch,
            provider("access_denied"),
            provider("invalid_scope"),
            SignInProblem::NoCode,
            SignInProblem::TokenRefused {
                error: "invalid_grant".to_owned(),
                description: Some("code expired".to_owned()),
            },
            SignInProblem::TokenEndpoint { status: 502 },
            SignInProblem::Unreachable {
                detail: "TypeError: Failed to fetch".to_owned(),
            },
            SignInProblem::BadToken(TokenProblem::Malformed),
            SignInProblem::BadToken(TokenProblem::WrongAudience),
            SignInProblem::BadToken(TokenProblem::NoExpiry),
            SignInProblem::BadToken(TokenProblem::Expired),
            SignInProblem::SignOutPopupBlocked,
        ];
        for problem in &problems {
            check_both(
                &sign_in_problem(problem, Lang::En),
                &sign_in_problem(problem, Lang::Ja),
            );
        }
        assert!(sign_in_problem(&problems[4], Lang::En).contains("invalid_scope"));
        assert!(sign_in_problem(&problems[6], Lang::Ja).contains("code expired"));
        assert!(sign_in_problem(&problems[7], Lang::En).contains("HTTP 502"));

        for problem in [
            ConfigProblem::Unavailable { status: 403 },
            ConfigProblem::Unreachable {
                detail: "offline".to_owned(),
            },
            ConfigProblem::NotJson,
            ConfigProblem::ApiUrl("ftp://x".to_owned()),
            ConfigProblem::SignInUrl("javascript:x".to_owned()),
            ConfigProblem::HalfSignIn,
        ] {
            check_both(
                &config_problem(&problem, Lang::En),
                &config_problem(&problem, Lang::Ja),
            );
        }
        assert!(
            config_problem(&ConfigProblem::ApiUrl("ftp://x".to_owned()), Lang::Ja)
                .contains("ftp://x")
        );
    }
}
