//! The batch job's words, English and Japanese.

use super::{Lang, pick};

/// Every fixed text of registering a batch as a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum JobText {
    Heading,
    Hint,
    Into,
    Submit,
    Creating,
    Uploading,
    Starting,
    ChooseTargets,
    ChoosePolicy,
    TooManyTargets,
    NothingToRegister,
    NeedsConfig,
    AwaitingUpload,
    Splitting,
    Running,
    Finished,
    Cancelled,
    Pairs,
    Succeeded,
    Failed,
    Skipped,
    Throttled,
    PerSecond,
    Left,
    Cancel,
    Cancelling,
    Results,
    ResultsFailed,
    Stale,
    SubmitFailed,
    JobId,
    Reattach,
}

impl JobText {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        pick(lang, en, ja)
    }

    fn both(self) -> (&'static str, &'static str) {
        use JobText::*;
        match self {
            Heading => (
                "Register the batch as a job",
                "このバッチをジョブとして登録",
            ),
            Hint => (
                "The server's workers register every certificate (never a key) into the targets and with the policy chosen in Register above, paced to each account's AWS IoT limits. You may close this page: the job goes on without it.",
                "サーバーのワーカーが、上の「登録」で選んだ登録先とポリシーで、すべての証明書（鍵は送りません）を各アカウントの AWS IoT の上限に合わせて登録します。このページを閉じてもジョブは続きます。",
            ),
            Into => ("Into", "登録先"),
            Submit => ("Register as a job", "ジョブとして登録"),
            Creating => ("Creating the job…", "ジョブを作成中…"),
            Uploading => ("Uploading the certificates…", "証明書をアップロード中…"),
            Starting => ("Starting the job…", "ジョブを開始中…"),
            ChooseTargets => (
                "Choose at least one target in Register above.",
                "上の「登録」で登録先を 1 つ以上選んでください。",
            ),
            ChoosePolicy => (
                "Choose a policy in Register above.",
                "上の「登録」でポリシーを選んでください。",
            ),
            TooManyTargets => (
                "More targets are chosen in Register than one job may use.",
                "「登録」で選んだ登録先が 1 つのジョブで使える数を超えています。",
            ),
            NothingToRegister => (
                "This batch holds no certificate to register.",
                "このバッチには登録する証明書がありません。",
            ),
            NeedsConfig => (
                "Targets are not loaded yet (sign in, or retry in Register).",
                "登録先がまだ読み込まれていません（サインインするか「登録」で再試行してください）。",
            ),
            AwaitingUpload => ("waiting for its file", "ファイル待ち"),
            Splitting => ("checking the certificates", "証明書を確認中"),
            Running => ("registering", "登録中"),
            Finished => ("finished", "完了"),
            Cancelled => ("cancelled", "キャンセル済み"),
            Pairs => (
                "certificate × target pairs done",
                "件（証明書 × 登録先）完了",
            ),
            Succeeded => ("succeeded", "成功"),
            Failed => ("failed", "失敗"),
            Skipped => ("skipped", "スキップ"),
            Throttled => (
                "throttling replies (they slow the pace; never failures)",
                "件のスロットリング応答（速度を落とします。失敗ではありません）",
            ),
            PerSecond => ("per second", "件/秒"),
            Left => ("left", "残り"),
            Cancel => ("Cancel the job", "ジョブをキャンセル"),
            Cancelling => ("Cancelling…", "キャンセル中…"),
            Results => ("Download the results (.csv)", "結果をダウンロード (.csv)"),
            ResultsFailed => (
                "The results could not be downloaded:",
                "結果をダウンロードできませんでした:",
            ),
            Stale => (
                "The job's progress could not be read; trying again:",
                "ジョブの進み具合を読み込めませんでした。再試行します:",
            ),
            SubmitFailed => (
                "The job could not be submitted:",
                "ジョブを送信できませんでした:",
            ),
            JobId => ("Job", "ジョブ"),
            Reattach => ("Follow it from a terminal:", "ターミナルから追う:"),
        }
    }
}
