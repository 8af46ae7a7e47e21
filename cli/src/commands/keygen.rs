//! `marshal keygen`: a new key and self-signed device certificate, written as files.

use std::path::PathBuf;

use marshal_shared::{CertificateRequest, KeyType, OffsetDateTime, csr, generate};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{
    cli::KeygenArgs,
    files::{self, Output},
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &KeygenArgs) -> Result<Report, Failure> {
    let name = file_stem(&args.cn)?;
    let request = CertificateRequest {
        common_name: args.cn.clone(),
        organization: args.org.clone(),
        organizational_unit: args.org_unit.clone(),
        country: args.country.clone(),
        validity_days: args.days,
    };
    request.validate()?;
    let cert_path = args.out.join(format!("{name}.cert.pem"));
    let key_path = args.out.join(format!("{name}.private.key"));
    let csr_path = args.out.join(format!("{name}.csr.pem"));
    if args.out.exists() && !args.out.is_dir() {
        return Err(Failure::input(
            "unwritable_output",
            format!("{} is not a directory", args.out.display()),
        ));
    }
    // A missing output directory is made (mode 0700 where it is new: it will
    // hold a private key), as `--out creds/` suggests.
    if !args.out.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&args.out).map_err(|e| {
            Failure::input(
                "unwritable_output",
                format!("cannot create {}: {e}", args.out.display()),
            )
        })?;
    }
    // Refuse before spending time on key generation.
    let mut planned = vec![&cert_path, &key_path];
    if args.csr {
        planned.push(&csr_path);
    }
    files::refuse_existing(planned.into_iter().map(PathBuf::as_path), args.force)?;

    let key_type = KeyType::from(args.key);
    let now = OffsetDateTime::now_utc();
    let credentials = generate(key_type, &request, now)?;
    let cert = &credentials.certificate;
    let mut outputs = vec![
        Output {
            path: cert_path.clone(),
            contents: Zeroizing::new(cert.to_pem().into_bytes()),
            secret: false,
        },
        Output {
            path: key_path.clone(),
            contents: Zeroizing::new(credentials.private_key.to_pkcs8_pem().as_bytes().to_vec()),
            secret: true,
        },
    ];
    if args.csr {
        outputs.push(Output {
            path: csr_path.clone(),
            contents: Zeroizing::new(csr(&credentials.private_key, &request)?.into_bytes()),
            secret: false,
        });
    }
    files::write_all(&outputs, args.force)?;

    let info = cert.info()?;
    let id = cert.id();
    let mut text = format!(
        "certificate:    {}\nprivate key:    {}\n",
        cert_path.display(),
        key_path.display()
    );
    if args.csr {
        text.push_str(&format!("request:        {}\n", csr_path.display()));
    }
    text.push_str(&format!(
        "key:            {}\nvalid:          {} to {}\ncertificate ID: {id}\n\
         The private key file is readable only by you (mode 0600). Keep it secret; only the certificate is ever sent to AWS.\n",
        info.key, info.not_before, info.not_after
    ));
    Ok(Report::ok(
        text,
        json!({
            "certificateId": id,
            "certificatePath": cert_path,
            "privateKeyPath": key_path,
            "csrPath": args.csr.then_some(&csr_path),
            "keyType": key_type,
            "commonName": args.cn,
            "notBefore": info.not_before,
            "notAfter": info.not_after,
        }),
    ))
}

/// The common name as a file name, refusing what would escape the directory.
fn file_stem(cn: &str) -> Result<&str, Failure> {
    let bad = cn.is_empty()
        || cn == "."
        || cn == ".."
        || cn.starts_with('.')
        || cn
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '\0') || c.is_control());
    if bad {
        Err(Failure::input(
            "invalid_request",
            format!(
                "the common name {cn:?} cannot be used as a file name (no '/', '\\', leading '.' or control characters)"
            ),
        ))
    } else {
        Ok(cn)
    }
}
