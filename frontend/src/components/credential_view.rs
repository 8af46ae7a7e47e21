//! What the worker made: the certificate ID first, downloads, preflight
//! findings, then the certificate's details.

use std::rc::Rc;

use marshal_shared::preflight::Severity;
use yew::prelude::*;

use crate::download::save_text;
use crate::i18n::{Lang, Text};
use crate::state::Made;

#[derive(Properties, PartialEq)]
pub(crate) struct CredentialViewProps {
    pub(crate) made: Rc<Made>,
    pub(crate) lang: Lang,
}

#[function_component(CredentialView)]
pub(crate) fn credential_view(props: &CredentialViewProps) -> Html {
    let lang = props.lang;
    let made = &props.made;
    let info = &made.info;
    let name = info
        .common_name
        .clone()
        .unwrap_or_else(|| info.certificate_id[..12].to_owned());

    let download_error = use_state(|| None::<String>);
    let on_certificate = {
        let pem = made.certificate.to_pem();
        let file = format!("{name}.cert.pem");
        let download_error = download_error.clone();
        Callback::from(move |_: MouseEvent| {
            download_error.set(save_text(&file, "application/x-pem-file", &pem).err());
        })
    };
    let on_key = {
        let made = made.clone();
        let file = format!("{name}.private.key");
        let download_error = download_error.clone();
        Callback::from(move |_: MouseEvent| {
            download_error
                .set(save_text(&file, "application/x-pem-file", &made.private_key_pem).err());
        })
    };

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
            <h3>{ Text::CertificateId.get(lang) }</h3>
            <p><code class="certificate-id" id="certificate-id">{ &info.certificate_id }</code></p>
            <p class="hint">{ Text::CertificateIdHint.get(lang) }</p>

            <div class="downloads">
                <button type="button" onclick={on_certificate} id="download-certificate">
                    { Text::DownloadCertificate.get(lang) }
                </button>
                <button type="button" onclick={on_key} id="download-key">
                    { Text::DownloadKey.get(lang) }
                </button>
            </div>
            <p class="warning">{ Text::SaveKeyNow.get(lang) }</p>
            if let Some(error) = &*download_error {
                <p class="status error" role="alert">{ error }</p>
            }

            <h3>{ Text::Preflight.get(lang) }</h3>
            if made.findings.is_empty() {
                <p class="status ok" id="preflight-clean">{ Text::PreflightClean.get(lang) }</p>
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
