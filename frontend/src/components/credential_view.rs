//! What the worker made: the certificate ID first, downloads, preflight
//! findings, then the certificate's details.

use std::rc::Rc;

use marshal_shared::preflight::Severity;
use yew::prelude::*;

use zeroize::Zeroizing;

use super::input_value;
use crate::device_kit::{KitEndpoint, device_kit};
use crate::download::{save_bytes, save_text};
use crate::i18n::{Lang, Text};
use crate::qr;
use crate::state::{KeyCheck, Made, Origin, Secret};

#[derive(Properties, PartialEq)]
pub(crate) struct CredentialViewProps {
    pub(crate) made: Rc<Made>,
    pub(crate) lang: Lang,
    /// Where the last registration put this certificate (for the kit).
    #[prop_or_default]
    pub(crate) endpoints: Vec<KitEndpoint>,
    /// Put before every element id, so a second view (a rotation's new
    /// credentials) can be on the page with the first.
    #[prop_or_default]
    pub(crate) id_prefix: AttrValue,
}

#[function_component(CredentialView)]
pub(crate) fn credential_view(props: &CredentialViewProps) -> Html {
    let lang = props.lang;
    let made = &props.made;
    let info = &made.info;
    let stem = made.file_stem();
    let has_key = made.private_key.is_some();
    let id = |name: &str| format!("{}{name}", props.id_prefix);

    let download_error = use_state(|| None::<String>);
    let p12_password = use_state(Secret::default);
    let save = {
        let download_error = download_error.clone();
        move |result: Result<(), String>| download_error.set(result.err())
    };
    let on_certificate = {
        let pem = made.certificate.to_pem();
        let file = format!("{stem}.cert.pem");
        let save = save.clone();
        Callback::from(move |_: MouseEvent| {
            save(save_text(&file, "application/x-pem-file", &pem));
        })
    };
    let on_key = {
        let made = made.clone();
        let file = format!("{stem}.private.key");
        let save = save.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(key) = &made.private_key {
                save(save_text(
                    &file,
                    "application/x-pem-file",
                    &key.to_pkcs8_pem(),
                ));
            }
        })
    };
    let on_p12 = {
        let made = made.clone();
        let file = format!("{stem}.p12");
        let password = p12_password.clone();
        let save = save.clone();
        let friendly_name = stem.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(key) = &made.private_key else {
                return;
            };
            let result =
                marshal_shared::pkcs12::export(&made.certificate, key, &password.0, &friendly_name)
                    .map_err(|e| e.to_string())
                    .map(Zeroizing::new)
                    .and_then(|der| save_bytes(&file, "application/x-pkcs12", &der));
            save(result);
        })
    };
    let on_kit = {
        let made = made.clone();
        let endpoints = props.endpoints.clone();
        let save = save.clone();
        Callback::from(move |_: MouseEvent| {
            let now = (js_sys::Date::now() / 1000.0) as i64;
            let result = device_kit(&made, &endpoints, now)
                .map_err(|e| e.to_string())
                .and_then(|(file, zip)| {
                    let zip = Zeroizing::new(zip);
                    save_bytes(&file, "application/zip", &zip)
                });
            save(result);
        })
    };
    let on_p12_password = {
        let password = p12_password.clone();
        Callback::from(move |e: InputEvent| password.set(Secret(Zeroizing::new(input_value(&e)))))
    };
    let qr = qr::svg(&info.certificate_id, Text::QrCaption.get(lang))
        .map(|svg| Html::from_html_unchecked(AttrValue::from(svg)))
        .unwrap_or_default();

    let yes_no = |b: bool| {
        if b {
            Text::Yes.get(lang)
        } else {
            Text::No.get(lang)
        }
    };
    let row = |label: Text, value: String| {
        html! { <><dt>{ label.get(lang) }</dt><dd>{ value }</dd></> }
    };

    html! {
        <div class="made">
            <p class="origin" id={id("credentials-origin")}>{ origin_text(made, lang) }</p>
            if let Some((class, text)) = key_note(made) {
                <p class={classes!("status", class)} id={id("key-check")}>{ text.get(lang) }</p>
            }
            <div class="id-row">
                <div>
                    <h3>{ Text::CertificateId.get(lang) }</h3>
                    <p><code class="certificate-id" id={id("certificate-id")}>{ &info.certificate_id }</code></p>
                    <p class="hint">{ Text::CertificateIdHint.get(lang) }</p>
                </div>
                <figure class="qr" id={id("certificate-qr")}>
                    { qr }
                    <figcaption class="hint">{ Text::QrCaption.get(lang) }</figcaption>
                </figure>
            </div>

            <h3>{ Text::Downloads.get(lang) }</h3>
            <div class="downloads">
                <button type="button" onclick={on_certificate} id={id("download-certificate")}>
                    { Text::DownloadCertificate.get(lang) }
                </button>
                if has_key {
                    <button type="button" onclick={on_key} id={id("download-key")}>
                        { Text::DownloadKey.get(lang) }
                    </button>
                }
            </div>
            if has_key {
                <p class="warning">{ Text::SaveKeyNow.get(lang) }</p>
                <div class="p12 field">
                    <label for={id("p12-password")}>{ Text::Pkcs12Password.get(lang) }</label>
                    <div class="inline">
                        <input id={id("p12-password")} type="password" autocomplete="new-password"
                            value={p12_password.0.to_string()} oninput={on_p12_password}
                            aria-describedby={id("p12-password-hint")} />
                        <button type="button" onclick={on_p12} id={id("download-p12")}>
                            { Text::DownloadPkcs12.get(lang) }
                        </button>
                    </div>
                    <p class="hint field-hint" id={id("p12-password-hint")}>{ Text::Pkcs12PasswordHint.get(lang) }</p>
                </div>
                <div class="kit">
                    <button type="button" class="primary" onclick={on_kit} id={id("download-kit")}
                        aria-describedby={id("kit-hint")}>
                        { Text::DownloadDeviceKit.get(lang) }
                    </button>
                    <p class="hint" id={id("kit-hint")}>
                        { Text::DeviceKitHint.get(lang) }
                        if props.endpoints.is_empty() {
                            { " " }{ Text::DeviceKitNoEndpoints.get(lang) }
                        }
                    </p>
                </div>
            }
            if let Some(error) = &*download_error {
                <p class="status error" role="alert">{ error }</p>
            }

            <h3>{ Text::Preflight.get(lang) }</h3>
            if made.findings.is_empty() {
                <p class="status ok" id={id("preflight-clean")}>{ Text::PreflightClean.get(lang) }</p>
            } else {
                <ul class="findings">
                    { for made.findings.iter().map(|f| {
                        let (class, label) = match f.severity {
                            Severity::Error => ("error", Text::SeverityError),
                            Severity::Warning => ("warning", Text::SeverityWarning),
                        };
                        html! { <li class={class}><strong>{ label.get(lang) }</strong>{ format!(": {}", f.message) }</li> }
                    }) }
                </ul>
            }

            <details>
                <summary>{ Text::Details.get(lang) }</summary>
                <dl class="details">
                    { row(Text::Subject, info.subject.clone()) }
                    { row(Text::Issuer, info.issuer.clone()) }
                    { row(Text::Serial, info.serial.clone()) }
                    { row(Text::NotBefore, info.not_before.clone()) }
                    { row(Text::NotAfter, info.not_after.clone()) }
                    { row(Text::PublicKey, info.key.to_string()) }
                    { row(Text::Signature, info.signature.to_string()) }
                    { row(Text::SelfSigned, yes_no(info.self_signed).to_owned()) }
                    { row(Text::KeyUsage, info.key_usage.iter().chain(&info.extended_key_usage).cloned().collect::<Vec<_>>().join(", ")) }
                </dl>
            </details>
        </div>
    }
}

/// "Made in this browser just now." / "Imported from a.p12".
fn origin_text(made: &Made, lang: Lang) -> String {
    match &made.origin {
        Origin::Generated => Text::MadeHere.get(lang).to_owned(),
        Origin::Imported { files, .. } => {
            format!("{} {}", Text::ImportedFrom.get(lang), files.join(", "))
        }
    }
}

/// What the import found about the key, with its CSS class.
fn key_note(made: &Made) -> Option<(&'static str, Text)> {
    match &made.origin {
        Origin::Generated => None,
        Origin::Imported { key_check, .. } => Some(match key_check {
            KeyCheck::Matches => ("ok", Text::KeyMatches),
            KeyCheck::Mismatch => ("error", Text::KeyMismatch),
            KeyCheck::NoKey => ("warning", Text::NoKeyImported),
        }),
    }
}
