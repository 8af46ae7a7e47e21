//! English and Japanese: every word the page shows, the language chosen
//! from `navigator.language` and switchable. One `match` per text, so a
//! missing translation does not compile.

use marshal_shared::api::{ErrorCode, TargetErrorCode};

pub mod auth;
pub mod inventory;
pub mod jobs;
pub mod manage;
pub mod rotate;

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The language for a BCP 47 tag such as `navigator.language`
    /// (`ja`, `ja-JP` → Japanese; anything else → English).
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }
}

/// Every fixed text on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Text {
    Title,
    Tagline,
    KeysStayHere,
    Language,
    MakeHeading,
    KeyType,
    CommonName,
    CommonNameHint,
    ValidityDays,
    Organization,
    OrganizationalUnit,
    Country,
    Optional,
    Generate,
    Generating,
    GenerationFailed,
    CertificateId,
    CertificateIdHint,
    Details,
    Subject,
    Issuer,
    Serial,
    NotBefore,
    NotAfter,
    PublicKey,
    Signature,
    SelfSigned,
    KeyUsage,
    Yes,
    No,
    Preflight,
    PreflightClean,
    SeverityError,
    SeverityWarning,
    DownloadCertificate,
    DownloadKey,
    SaveKeyNow,
    RegisterHeading,
    RegisterNeedsCredentials,
    LoadingTargets,
    TargetsFailed,
    Retry,
    Targets,
    Account,
    Policy,
    ThingName,
    ThingNameRule,
    ThingNamePattern,
    OwnerGroup,
    OnlyMe,
    OwnerGroupHint,
    ChooseTarget,
    TooManyTargets,
    Register,
    Registering,
    OnlyCertificateSent,
    Results,
    Target,
    Status,
    CertificateArn,
    EndpointOrError,
    Succeeded,
    Failed,
    RequestId,
    ErrorCommonNameEmpty,
    ErrorTooLong,
    ErrorValidity,
    ErrorCountry,
    ErrorControl,
    ImportHeading,
    CredentialsHeading,
    CredentialsSource,
    ImportHint,
    ChooseFiles,
    DropFilesHere,
    ImportPassword,
    ImportPasswordHint,
    ImportOpen,
    ImportReading,
    ImportNothing,
    ImportTooManyFiles,
    ImportTooLarge,
    ImportSeveralKeys,
    ImportKeyOnly,
    ImportNoCertificate,
    ImportNeedsPassword,
    ImportWrongPassword,
    ImportEmpty,
    ImportUnreadable,
    ImportFailed,
    YourCredentials,
    MadeHere,
    ImportedFrom,
    KeyMatches,
    KeyMismatch,
    NoKeyImported,
    QrCaption,
    Downloads,
    DownloadPkcs12,
    Pkcs12Password,
    Pkcs12PasswordHint,
    DownloadDeviceKit,
    DeviceKitHint,
    DeviceKitNoEndpoints,
    PreparingDownload,
    BatchHeading,
    BatchHint,
    BatchNames,
    BatchUpload,
    BatchStart,
    BatchCancel,
    BatchCancelled,
    BatchProgress,
    BatchDone,
    BatchDownload,
    BatchNoNames,
    BatchTooMany,
    BatchBadName,
    BatchDuplicate,
    BatchFailed,
    BatchFormErrors,
}

impl Text {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        let (en, ja) = self.both();
        match lang {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }

    fn both(self) -> (&'static str, &'static str) {
        use Text::*;
        match self {
            Title => (
                "Marshal: AWS IoT device onboarding",
                "Marshal: AWS IoT デバイスのオンボーディング",
            ),
            Tagline => (
                "Make a device key and certificate here, then register the certificate without a CA into the AWS accounts and regions you may use.",
                "ここでデバイスの鍵と証明書を作り、使用を許可された AWS アカウントとリージョンに証明書を CA なしで登録します。",
            ),
            KeysStayHere => (
                "Private keys are made in this page and stay in its memory: they are never sent, stored or logged, and only certificates go to the server.",
                "秘密鍵はこのページの中で作られ、ページのメモリにだけ置かれます。送信・保存・ログ出力は一切されず、サーバーに送られるのは証明書だけです。",
            ),
            Language => ("Language", "言語"),
            MakeHeading => ("Make new", "新しく作る"),
            KeyType => ("Key type", "鍵の種類"),
            CommonName => ("Common name (CN)", "コモンネーム (CN)"),
            CommonNameHint => (
                "Usually the thing name.",
                "通常はモノの名前と同じにします。",
            ),
            ValidityDays => ("Validity (days)", "有効期間（日）"),
            Organization => ("Organization (O)", "組織 (O)"),
            OrganizationalUnit => ("Organizational unit (OU)", "部門 (OU)"),
            Country => ("Country (C, two letters)", "国 (C、英大文字 2 文字)"),
            Optional => ("optional", "任意"),
            Generate => ("Generate key and certificate", "鍵と証明書を生成"),
            Generating => (
                "Generating in a background worker…",
                "バックグラウンドで生成中…",
            ),
            GenerationFailed => ("Generation failed:", "生成に失敗しました:"),
            CertificateId => ("Certificate ID", "証明書 ID"),
            CertificateIdHint => (
                "SHA-256 of the certificate's DER: the ID AWS IoT shows. Note it to find the certificate later.",
                "証明書 DER の SHA-256 で、AWS IoT が表示する ID と同じです。後で探すときのために控えてください。",
            ),
            Details => ("Certificate details", "証明書の詳細"),
            Subject => ("Subject", "サブジェクト"),
            Issuer => ("Issuer", "発行者"),
            Serial => ("Serial number", "シリアル番号"),
            NotBefore => ("Valid from", "有効期間の開始"),
            NotAfter => ("Valid until", "有効期間の終了"),
            PublicKey => ("Public key", "公開鍵"),
            Signature => ("Signature", "署名"),
            SelfSigned => ("Self-signed", "自己署名"),
            KeyUsage => ("Key usage", "鍵の用途"),
            Yes => ("yes", "はい"),
            No => ("no", "いいえ"),
            Preflight => (
                "Preflight: will AWS IoT accept it?",
                "事前チェック: AWS IoT に受け付けられるか",
            ),
            PreflightClean => ("No problems found.", "問題は見つかりませんでした。"),
            SeverityError => ("Error", "エラー"),
            SeverityWarning => ("Warning", "警告"),
            DownloadCertificate => ("Download certificate (PEM)", "証明書をダウンロード (PEM)"),
            DownloadKey => (
                "Download private key (PKCS#8 PEM)",
                "秘密鍵をダウンロード (PKCS#8 PEM)",
            ),
            SaveKeyNow => (
                "Save the private key now: it exists only in this page and is gone when you close or reload it.",
                "秘密鍵は今のうちに保存してください。このページの中にしかなく、閉じるか再読み込みすると失われます。",
            ),
            RegisterHeading => (
                "2. Register in AWS IoT (without a CA)",
                "2. AWS IoT に登録（CA なし）",
            ),
            RegisterNeedsCredentials => (
                "Make credentials first; then choose where to register the certificate.",
                "先に認証情報を作ってください。その後、証明書の登録先を選べます。",
            ),
            LoadingTargets => (
                "Loading the targets you may use…",
                "使用できる登録先を読み込み中…",
            ),
            TargetsFailed => (
                "Could not load the targets.",
                "登録先を読み込めませんでした。",
            ),
            Retry => ("Try again", "再試行"),
            Targets => (
                "Targets (account × region)",
                "登録先（アカウント × リージョン）",
            ),
            Account => ("Account", "アカウント"),
            Policy => ("Policy", "ポリシー"),
            ThingName => ("Thing name", "モノの名前"),
            ThingNameRule => (
                "1 to 128 letters, digits, ':', '_' or '-'.",
                "英数字と ':' '_' '-' の 1〜128 文字。",
            ),
            ThingNamePattern => (
                "The server only allows names matching",
                "サーバーが許可する名前のパターン:",
            ),
            OwnerGroup => ("Owner group", "所有グループ"),
            OnlyMe => ("Only me", "自分だけ"),
            OwnerGroupHint => (
                "Members of the group you choose may then manage this certificate too: activate, deactivate, delete, copy or move it.",
                "選んだグループのメンバーも、この証明書を管理（有効化・無効化・削除・コピー・移動）できるようになります。",
            ),
            ChooseTarget => (
                "Choose at least one target.",
                "登録先を 1 つ以上選んでください。",
            ),
            TooManyTargets => (
                "Too many targets for one request; the server allows",
                "1 回の登録先が多すぎます。サーバーの上限:",
            ),
            Register => ("Register certificate", "証明書を登録"),
            Registering => ("Registering…", "登録中…"),
            OnlyCertificateSent => (
                "Only the certificate is sent; the private key stays here.",
                "送信されるのは証明書だけで、秘密鍵はここに残ります。",
            ),
            Results => ("Results", "結果"),
            Target => ("Target", "登録先"),
            Status => ("Status", "状態"),
            CertificateArn => ("Certificate ARN", "証明書 ARN"),
            EndpointOrError => (
                "Endpoint (or what went wrong)",
                "エンドポイント（またはエラー内容）",
            ),
            Succeeded => ("succeeded", "成功"),
            Failed => ("failed", "失敗"),
            RequestId => ("request id", "リクエスト ID"),
            ErrorCommonNameEmpty => ("Enter a common name.", "コモンネームを入力してください。"),
            ErrorTooLong => ("At most 64 characters.", "64 文字以内にしてください。"),
            ErrorValidity => (
                "Enter a number of days from 1 to 36500.",
                "1〜36500 の日数を入力してください。",
            ),
            ErrorCountry => (
                "Two capital letters, such as JP or US.",
                "JP や US のような英大文字 2 文字にしてください。",
            ),
            ErrorControl => (
                "Control characters are not allowed.",
                "制御文字は使えません。",
            ),
            CredentialsHeading => ("1. Device credentials", "1. デバイスの認証情報"),
            CredentialsSource => ("How to get them", "入手方法"),
            ImportHeading => ("Import existing", "既存のものを読み込む"),
            ImportHint => (
                "A certificate, with its key if you have it: PEM (.pem .crt .key), DER (.cer .der) or PKCS#12 (.p12 .pfx). Pick several files to read a certificate and its key together. They are read here and never uploaded.",
                "証明書と、あれば秘密鍵: PEM (.pem .crt .key)、DER (.cer .der)、PKCS#12 (.p12 .pfx)。証明書と鍵を一緒に読むには複数のファイルを選んでください。ファイルはこのページ内で読まれ、アップロードされません。",
            ),
            ChooseFiles => ("Choose files", "ファイルを選択"),
            DropFilesHere => ("…or drop them here", "…またはここにドロップ"),
            ImportPassword => (
                "Password (PKCS#12 or encrypted key)",
                "パスワード（PKCS#12 または暗号化された鍵）",
            ),
            ImportPasswordHint => (
                "Leave empty for files without a password.",
                "パスワードの無いファイルでは空のままにしてください。",
            ),
            ImportOpen => ("Open again with this password", "このパスワードで開き直す"),
            ImportReading => ("Reading…", "読み込み中…"),
            ImportNothing => ("No file was chosen.", "ファイルが選ばれていません。"),
            ImportTooManyFiles => (
                "Too many files at once: pick at most 8 (a certificate, its key, maybe a chain).",
                "一度に読めるファイルは 8 個までです（証明書、鍵、必要なら中間証明書）。",
            ),
            ImportTooLarge => (
                "is larger than 1 MiB: not a certificate or key file.",
                "は 1 MiB を超えています。証明書や鍵のファイルではありません。",
            ),
            ImportSeveralKeys => (
                "holds a second private key: import one device's credentials at a time.",
                "に 2 つ目の秘密鍵があります。1 台分ずつ読み込んでください。",
            ),
            ImportKeyOnly => (
                "Only a private key was found. Pick its certificate too (both files at once).",
                "秘密鍵しか見つかりませんでした。証明書も一緒に選んでください（2 つのファイルを同時に）。",
            ),
            ImportNoCertificate => (
                "No certificate was found in these files.",
                "これらのファイルに証明書が見つかりませんでした。",
            ),
            ImportNeedsPassword => (
                "is protected by a password. Type it above and open again.",
                "はパスワードで保護されています。上にパスワードを入力して開き直してください。",
            ),
            ImportWrongPassword => (
                ": the password is wrong. Check it and open again.",
                ": パスワードが違います。確認して開き直してください。",
            ),
            ImportEmpty => ("is empty.", "は空です。"),
            ImportUnreadable => (
                "is not a certificate, key or PKCS#12 file this page can read.",
                "は、このページで読める証明書・鍵・PKCS#12 ファイルではありません。",
            ),
            ImportFailed => ("Could not import:", "読み込めませんでした:"),
            YourCredentials => ("Your credentials", "あなたの認証情報"),
            MadeHere => (
                "Made in this browser just now.",
                "このブラウザで作成しました。",
            ),
            ImportedFrom => ("Imported from", "読み込み元:"),
            KeyMatches => (
                "The private key belongs to this certificate.",
                "秘密鍵はこの証明書のものです。",
            ),
            KeyMismatch => (
                "The private key in these files belongs to another certificate; it was not kept. Import the matching key to download a key or device kit.",
                "このファイルの秘密鍵は別の証明書のものなので、保持していません。鍵やデバイスキットをダウンロードするには、対応する鍵を読み込んでください。",
            ),
            NoKeyImported => (
                "Certificate only: you can register and manage it; key downloads need its private key.",
                "証明書のみです。登録と管理はできますが、鍵のダウンロードには秘密鍵が必要です。",
            ),
            QrCaption => (
                "QR code of the certificate ID, for device labels",
                "証明書 ID の QR コード（デバイスのラベル用）",
            ),
            Downloads => ("Downloads", "ダウンロード"),
            DownloadPkcs12 => ("Download PKCS#12 (.p12)", "PKCS#12 (.p12) をダウンロード"),
            Pkcs12Password => ("PKCS#12 password", "PKCS#12 のパスワード"),
            Pkcs12PasswordHint => (
                "Protects the .p12 file. Empty is allowed but leaves the key readable by anyone with the file.",
                ".p12 ファイルを保護します。空でも作れますが、ファイルを持つ人なら誰でも鍵を読めます。",
            ),
            DownloadDeviceKit => (
                "Download device kit (.zip)",
                "デバイスキット (.zip) をダウンロード",
            ),
            DeviceKitHint => (
                "Certificate, key, Amazon Root CA 1, the endpoint of every target registered to, and a README with ready-to-run connection commands.",
                "証明書、鍵、Amazon Root CA 1、登録先ごとのエンドポイント、すぐ使える接続コマンドを書いた README。",
            ),
            DeviceKitNoEndpoints => (
                "Register first to have the endpoints written into the kit.",
                "先に登録すると、キットにエンドポイントが書き込まれます。",
            ),
            PreparingDownload => ("Preparing…", "準備中…"),
            BatchHeading => (
                "4. Batch: many credentials at once",
                "4. 一括作成: まとめて認証情報を作る",
            ),
            BatchHint => (
                "One thing name per line, or a CSV whose first column is the name. Each gets its own key and certificate with the key type, validity and organisation chosen above; all come as one zip.",
                "1 行に 1 つのモノの名前、または 1 列目が名前の CSV。それぞれに、上で選んだ鍵の種類・有効期間・組織で鍵と証明書を作り、1 つの zip にまとめます。",
            ),
            BatchNames => ("Thing names", "モノの名前"),
            BatchUpload => ("Load names from a file", "ファイルから名前を読み込む"),
            BatchStart => (
                "Make credentials for every name",
                "すべての名前の認証情報を作成",
            ),
            BatchCancel => ("Cancel", "キャンセル"),
            BatchCancelled => (
                "Cancelled; nothing was kept.",
                "キャンセルしました。何も保持していません。",
            ),
            BatchProgress => ("made", "作成済み"),
            BatchDone => (
                "credentials made in",
                "件の認証情報を作成しました。所要時間",
            ),
            BatchDownload => ("Download all (.zip)", "すべてダウンロード (.zip)"),
            BatchNoNames => (
                "Enter at least one name.",
                "名前を 1 つ以上入力してください。",
            ),
            BatchTooMany => (
                "Too many names for one batch; the limit is",
                "1 回の一括作成には多すぎます。上限:",
            ),
            BatchBadName => (
                "is not a valid thing name (letters, digits and : _ -, at most 64 so it fits the common name).",
                "はモノの名前として使えません（英数字と : _ -、コモンネームに収まる 64 文字以内）。",
            ),
            BatchDuplicate => ("appears twice.", "が重複しています。"),
            BatchFailed => ("The batch failed:", "一括作成に失敗しました:"),
            BatchFormErrors => (
                "Fix the errors in the form above first.",
                "先に上のフォームのエラーを直してください。",
            ),
        }
    }
}

/// A whole-request API error in plain words, from its stable `code`.
pub fn explain_error(code: ErrorCode, lang: Lang) -> &'static str {
    let (en, ja) = match code {
        ErrorCode::InvalidJson | ErrorCode::InvalidRequest => (
            "The server could not use the request. Reload the page and try again.",
            "サーバーがリクエストを処理できませんでした。ページを再読み込みして再試行してください。",
        ),
        ErrorCode::UnknownTarget => (
            "A chosen target is no longer configured. Reload the page to see the current targets.",
            "選んだ登録先はもう設定されていません。ページを再読み込みしてください。",
        ),
        ErrorCode::Unauthorized => (
            "You are not signed in, or your session expired.",
            "サインインしていないか、セッションの期限が切れています。",
        ),
        ErrorCode::ForbiddenTarget => (
            "You are not allowed to use one of the chosen targets.",
            "選んだ登録先のひとつを使う権限がありません。",
        ),
        ErrorCode::PolicyNotAllowed => (
            "That policy is not on the allowed list.",
            "そのポリシーは許可リストにありません。",
        ),
        ErrorCode::KeyMaterialRefused => (
            "The request carried private key material and was refused; nothing was done.",
            "リクエストに秘密鍵が含まれていたため拒否されました。何も実行されていません。",
        ),
        ErrorCode::CertificateInvalid => (
            "The certificate could not be read.",
            "証明書を読み取れませんでした。",
        ),
        ErrorCode::PreflightFailed => (
            "AWS IoT would not accept this certificate (see the findings).",
            "この証明書は AWS IoT に受け付けられません（チェック結果を参照）。",
        ),
        ErrorCode::InvalidThingName => (
            "The thing name breaks AWS's rules or the server's naming pattern.",
            "モノの名前が AWS の規則またはサーバーの命名パターンに合いません。",
        ),
        ErrorCode::TooManyTargets => (
            "Too many targets in one request.",
            "1 回のリクエストの登録先が多すぎます。",
        ),
        ErrorCode::TooManyCertificates => (
            "Too many certificates in one request.",
            "1 回のリクエストの証明書が多すぎます。",
        ),
        ErrorCode::BodyTooLarge => ("The request is too large.", "リクエストが大きすぎます。"),
        ErrorCode::CertificateNotFound => (
            "The certificate is not registered there.",
            "証明書はそこに登録されていません。",
        ),
        ErrorCode::CertificateNotManaged => (
            "This certificate is not yours to change: it was registered outside Marshal, or by another user or group. Nothing was changed.",
            "この証明書は変更できません。Marshal の外で、または別のユーザーやグループが登録したものです。何も変更していません。",
        ),
        ErrorCode::AdminOnly => (
            "Only the target's administrators may do this (REVOKED, adopt).",
            "これは登録先の管理者だけが行えます（REVOKED、取り込み）。",
        ),
        ErrorCode::ForbiddenGroup => (
            "You are not a member of that owner group.",
            "その所有グループのメンバーではありません。",
        ),
        ErrorCode::JobNotFound => (
            "No job of yours has that id.",
            "その ID のジョブはありません。",
        ),
        ErrorCode::JobConflict => (
            "The job cannot do that in its present state.",
            "ジョブは今の状態ではそれを行えません。",
        ),
        ErrorCode::TooManyJobs => (
            "You have as many jobs under way as you may. Wait for one to end, or cancel one you no longer need.",
            "実行中のジョブが上限に達しています。どれかが終わるのを待つか、不要なジョブを取り消してください。",
        ),
        ErrorCode::JobsUnavailable => (
            "This deployment does not run jobs; register the batch directly.",
            "このデプロイではジョブを使えません。バッチを直接登録してください。",
        ),
        ErrorCode::InternalError => (
            "The server failed. Try again; if it persists, give your administrator the request id.",
            "サーバーでエラーが起きました。再試行し、続く場合はリクエスト ID を管理者に伝えてください。",
        ),
        _ => (
            "The server refused the request.",
            "サーバーがリクエストを拒否しました。",
        ),
    };
    pick(lang, en, ja)
}

/// A per-target failure in plain words, from its stable `code`.
pub fn explain_target_error(code: TargetErrorCode, lang: Lang) -> &'static str {
    let (en, ja) = match code {
        TargetErrorCode::AssumeRoleFailed => (
            "Marshal could not enter this account: its role is missing or does not trust Marshal.",
            "このアカウントに入れませんでした。ロールが無いか、Marshal を信頼していません。",
        ),
        TargetErrorCode::AwsAccessDenied => (
            "AWS denied the action: Marshal's role there lacks a permission.",
            "AWS が操作を拒否しました。そのアカウントの Marshal のロールに権限が足りません。",
        ),
        TargetErrorCode::AwsThrottled => (
            "AWS is throttling requests; try again in a minute.",
            "AWS がリクエストを制限しています。少し待って再試行してください。",
        ),
        TargetErrorCode::AwsTimeout => (
            "AWS did not answer in time; try again.",
            "AWS が時間内に応答しませんでした。再試行してください。",
        ),
        TargetErrorCode::AwsUnavailable => (
            "AWS could not be reached or failed; try again.",
            "AWS に接続できないか、AWS でエラーが起きました。再試行してください。",
        ),
        TargetErrorCode::AwsInvalidRequest => (
            "AWS refused the request as invalid.",
            "AWS がリクエストを不正として拒否しました。",
        ),
        TargetErrorCode::AwsConflict => (
            "The certificate's current state there does not allow this change.",
            "そこでの証明書の現在の状態では、この変更はできません。",
        ),
        TargetErrorCode::PolicyMissing => (
            "The policy does not exist in this target; ask your administrator to create it.",
            "この登録先にポリシーがありません。管理者に作成を依頼してください。",
        ),
        TargetErrorCode::CertificateIdMismatch => (
            "AWS computed a different certificate ID than the page; nothing was kept.",
            "AWS が計算した証明書 ID がページと異なりました。何も残していません。",
        ),
        TargetErrorCode::NotRegistered => (
            "The certificate is not registered in this target.",
            "証明書はこの登録先に登録されていません。",
        ),
        TargetErrorCode::CertificateRevoked => (
            "The certificate is REVOKED there; AWS cannot activate it again.",
            "証明書はそこで REVOKED（失効）です。AWS では再び有効にできません。",
        ),
        TargetErrorCode::CertificateNotManaged => (
            "The certificate exists here and is not yours (registered outside Marshal, or by someone else); it was left as it is.",
            "証明書はここに既にあり、あなたのものではありません（Marshal の外、または別の人が登録）。そのままにしました。",
        ),
        TargetErrorCode::ThingInUse => (
            "That thing belongs to someone else or already has a certificate; choose another thing name.",
            "そのモノは別の人のものか、既に証明書が付いています。別のモノの名前を選んでください。",
        ),
        TargetErrorCode::CertificateBusy => (
            "Another request is changing this certificate here; try again in a few seconds.",
            "別のリクエストがここでこの証明書を変更中です。数秒後に再試行してください。",
        ),
        TargetErrorCode::ForeignAttachment => (
            "A policy or thing that Marshal did not attach is attached; nothing was changed.",
            "Marshal が付けていないポリシーやモノが付いています。何も変更していません。",
        ),
        TargetErrorCode::NotAttempted => (
            "Not started: the request ran out of time. Send it again.",
            "時間切れのため開始しませんでした。もう一度送信してください。",
        ),
        TargetErrorCode::OwnershipUnavailable => (
            "Marshal's ownership records could not be reached; nothing was changed. Try again.",
            "Marshal の所有記録に接続できませんでした。何も変更していません。再試行してください。",
        ),
        TargetErrorCode::LedgerUnavailable => (
            "Marshal's ledger could not record the change, so it was not made. Try again.",
            "Marshal の台帳に記録できなかったため、変更していません。再試行してください。",
        ),
        TargetErrorCode::NotRotated => (
            "No successor of this certificate is registered and ACTIVE here; rotate it first.",
            "ここには後継の証明書が登録・有効化されていません。先にローテーションしてください。",
        ),
        TargetErrorCode::AlreadyRotated => (
            "This certificate was already rotated to another certificate here.",
            "この証明書はここで既に別の証明書にローテーション済みです。",
        ),
        _ => ("This target failed.", "この登録先で失敗しました。"),
    };
    pick(lang, en, ja)
}

fn pick(lang: Lang, en: &'static str, ja: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

// Native only: the browser tests are in `browser_tests`.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn language_follows_the_browser_tag() {
        for (tag, lang) in [
            ("ja", Lang::Ja),
            ("ja-JP", Lang::Ja),
            ("JA_jp", Lang::Ja),
            ("en-US", Lang::En),
            ("fr", Lang::En),
            ("", Lang::En),
            ("jav", Lang::En),
        ] {
            assert_eq!(Lang::from_tag(tag), lang, "{tag:?}");
        }
    }

    #[test]
    fn every_error_code_has_words_in_both_languages() {
        for &code in ErrorCode::ALL {
            for lang in Lang::ALL {
                assert!(!explain_error(code, lang).is_empty(), "{code:?} {lang:?}");
            }
            assert_ne!(explain_error(code, Lang::En), explain_error(code, Lang::Ja));
        }
    }
}
