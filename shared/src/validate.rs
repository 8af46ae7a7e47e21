//! Names AWS accepts: account IDs, regions, thing names, policy names and certificate IDs,
//! by the patterns the AWS IoT and STS API references document.

/// Why a name was refused; the message says what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} \"{value}\": {rule}")]
pub struct InvalidName {
    /// What kind of name (e.g. "thing name").
    pub what: &'static str,
    /// The value, shortened if long.
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

fn invalid(what: &'static str, value: &str, rule: &'static str) -> InvalidName {
    let mut shown: String = value.chars().take(80).collect();
    if value.chars().count() > 80 {
        shown.push('…');
    }
    InvalidName {
        what,
        value: shown,
        rule,
    }
}

/// An AWS account ID: exactly 12 digits.
pub fn account_id(value: &str) -> Result<(), InvalidName> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(
            "AWS account ID",
            value,
            "must be exactly 12 digits",
        ))
    }
}

/// A region name such as `ap-northeast-1` or `us-gov-west-1`.
pub fn region(value: &str) -> Result<(), InvalidName> {
    const RULE: &str =
        "must look like ap-northeast-1 (lowercase words and a number, joined by '-')";
    let parts: Vec<&str> = value.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
        && value.len() <= 32;
    if well_formed {
        Ok(())
    } else {
        Err(invalid("region", value, RULE))
    }
}

/// Regions where AWS IoT Core is offered (as of this writing). A region not
/// listed may be newer than this list: callers warn rather than refuse.
pub const KNOWN_IOT_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "ca-west-1",
    "sa-east-1",
    "mx-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "me-south-1",
    "me-central-1",
    "il-central-1",
    "af-south-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Whether `value` is in [`KNOWN_IOT_REGIONS`].
pub fn is_known_iot_region(value: &str) -> bool {
    KNOWN_IOT_REGIONS.contains(&value)
}

/// An IoT thing name: 1–128 of `a-z A-Z 0-9 : _ -`.
pub fn thing_name(value: &str) -> Result<(), InvalidName> {
    let ok = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "thing name",
            value,
            "must be 1 to 128 characters of letters, digits, ':', '_' and '-'",
        ))
    }
}

/// An IoT policy name: 1–128 of word characters and `+ = , . @ -`.
pub fn policy_name(value: &str) -> Result<(), InvalidName> {
    let ok = (1..=128).contains(&value.len())
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "policy name",
            value,
            "must be 1 to 128 characters of letters, digits and _ + = , . @ -",
        ))
    }
}

/// A certificate ID: 64 hex digits (AWS also accepts a `0x` prefix and
/// uppercase). Returns the canonical lowercase form without prefix.
pub fn certificate_id(value: &str) -> Result<String, InvalidName> {
    let hex = value.strip_prefix("0x").unwrap_or(value);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(invalid(
            "certificate ID",
            value,
            "must be 64 hexadecimal digits (the SHA-256 of the certificate's DER)",
        ))
    }
}

/// A factory job's id as the API makes them: exactly 32 lowercase hex
/// digits (so no id can name another route when put into a path).
pub fn is_job_id(value: &str) -> bool {
    value.len() == 32
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids() {
        assert!(is_job_id("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "../jobs/0123456789abcdef01234567",
        ] {
            assert!(!is_job_id(bad), "{bad:?}");
        }
    }

    fn check<E>(f: impl Fn(&str) -> Result<E, InvalidName>, good: &[&str], bad: &[&str]) {
        for g in good {
            assert!(f(g).is_ok(), "{g:?} should be accepted");
        }
        for b in bad {
            assert!(f(b).is_err(), "{b:?} should be refused");
        }
    }

    #[test]
    fn account_ids() {
        check(
            account_id,
            &["111111111111", "000000000000"],
            &[
                "",
                "11111111111",
                "1111111111111",
                "11111111111a",
                " 111111111111",
            ],
        );
    }

    #[test]
    fn regions() {
        check(
            region,
            &[
                "ap-northeast-1",
                "us-east-1",
                "us-gov-west-1",
                "cn-northwest-1",
            ],
            &[
                "",
                "ap-northeast",
                "AP-northeast-1",
                "ap_northeast_1",
                "apx-northeast-1",
                "ap--1",
                "ap-northeast-1a",
            ],
        );
        assert!(KNOWN_IOT_REGIONS.iter().all(|r| region(r).is_ok()));
        assert!(is_known_iot_region("ap-northeast-1"));
        assert!(!is_known_iot_region("xx-nowhere-9"));
    }

    #[test]
    fn thing_names() {
        let long = "a".repeat(128);
        let too_long = "a".repeat(129);
        check(
            thing_name,
            &["sensor-01", "a:b_c-D9", &long],
            &["", "with space", "dot.name", "slash/name", "ü", &too_long],
        );
    }

    #[test]
    fn policy_names() {
        check(
            policy_name,
            &["MarshalDevice", "a+b=c,d.e@f-g_h"],
            &["", "has space", "star*", "slash/"],
        );
    }

    #[test]
    fn certificate_ids() {
        let id = "ab".repeat(32);
        assert_eq!(certificate_id(&id).unwrap(), id);
        assert_eq!(
            certificate_id(&format!("0x{}", id.to_uppercase())).unwrap(),
            id
        );
        assert!(certificate_id(&id[..63]).is_err());
        assert!(certificate_id(&format!("{}g", &id[..63])).is_err());
        let err = certificate_id("nope").unwrap_err();
        assert!(err.to_string().contains("64 hexadecimal digits"));
    }
}
