//! Certificates edited field by field: every edit that makes one invalid
//! (wrong tags, trailing or non-minimal fields, explicit defaults, keys
//! that do not fit their label, impossible times, an unsigned algorithm
//! that differs from the signed one) is refused, and the few that stay
//! valid read as the edit says.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, path::PathBuf};

use marshal_shared::{Certificate, Error, import};

fn example(name: &str) -> Vec<u8> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    fs::read(manifest.join("tests/examples").join(name)).unwrap()
}

fn der_of(pem_name: &str) -> Vec<u8> {
    Certificate::from_pem(std::str::from_utf8(&example(pem_name)).unwrap())
        .unwrap()
        .der()
        .to_vec()
}

/// A DER tree, for editing: primitive content or constructed children.
/// Test-only, and definite lengths only (the fixtures are DER).
#[derive(Clone, Debug)]
enum Node {
    Primitive(u8, Vec<u8>),
    Constructed(u8, Vec<Node>),
}

impl Node {
    fn parse(bytes: &[u8]) -> Node {
        let (node, used) = Node::parse_one(bytes);
        assert_eq!(used, bytes.len());
        node
    }

    fn parse_one(bytes: &[u8]) -> (Node, usize) {
        let tag = bytes[0];
        let (len, header) = match bytes[1] {
            n @ 0..=0x7f => (usize::from(n), 2),
            n => {
                let count = usize::from(n & 0x7f);
                let len = bytes[2..2 + count]
                    .iter()
                    .fold(0, |acc, &b| acc << 8 | usize::from(b));
                (len, 2 + count)
            }
        };
        let content = &bytes[header..header + len];
        let node = if tag & 0x20 != 0 {
            let mut children = Vec::new();
            let mut at = 0;
            while at < content.len() {
                let (child, used) = Node::parse_one(&content[at..]);
                children.push(child);
                at += used;
            }
            Node::Constructed(tag, children)
        } else {
            Node::Primitive(tag, content.to_vec())
        };
        (node, header + len)
    }

    fn encode(&self) -> Vec<u8> {
        let (tag, content) = match self {
            Node::Primitive(tag, content) => (*tag, content.clone()),
            Node::Constructed(tag, children) => {
                (*tag, children.iter().flat_map(Node::encode).collect())
            }
        };
        let mut out = vec![tag];
        match content.len() {
            n @ 0..=0x7f => out.push(n as u8),
            n => {
                let bytes: Vec<u8> = n
                    .to_be_bytes()
                    .into_iter()
                    .skip_while(|&b| b == 0)
                    .collect();
                out.push(0x80 | bytes.len() as u8);
                out.extend(bytes);
            }
        }
        out.extend(content);
        out
    }

    fn at(&mut self, path: &[usize]) -> &mut Node {
        match path.split_first() {
            None => self,
            Some((&i, rest)) => match self {
                Node::Constructed(_, children) => children[i].at(rest),
                Node::Primitive(..) => panic!("{path:?} goes into a primitive"),
            },
        }
    }

    fn children(&mut self) -> &mut Vec<Node> {
        match self {
            Node::Constructed(_, children) => children,
            Node::Primitive(..) => panic!("not constructed"),
        }
    }

    fn set_tag(&mut self, new: u8) {
        match self {
            Node::Primitive(tag, _) | Node::Constructed(tag, _) => *tag = new,
        }
    }
}

// Paths in a v3 certificate: tbsCertificate = [0]; in it version [0],
// serial [1], signature [2], issuer [3], validity [4], subject [5],
// subjectPublicKeyInfo [6], extensions [7].
const TBS: usize = 0;
const SERIAL: [usize; 2] = [TBS, 1];
const VALIDITY: [usize; 2] = [TBS, 4];
const SPKI: [usize; 2] = [TBS, 6];
const EXTENSIONS: [usize; 2] = [TBS, 7];
const OUTER_ALGORITHM: [usize; 1] = [1];

fn edited(pem_name: &str, edit: impl FnOnce(&mut Node)) -> Vec<u8> {
    let mut tree = Node::parse(&der_of(pem_name));
    edit(&mut tree);
    tree.encode()
}

fn refused(what: &str, der: &[u8]) {
    match Certificate::from_der(der) {
        Err(Error::NotACertificate(_) | Error::TruncatedDer(_)) => {}
        Err(other) => panic!("{what}: refused with the wrong error {other:?}"),
        Ok(cert) => panic!("{what}: accepted as {:?}", cert.info()),
    }
}

#[test]
fn the_editor_round_trips_the_fixtures() {
    for name in ["p256.cert.pem", "ca.cert.pem", "rsa2048.cert.pem"] {
        assert_eq!(edited(name, |_| {}), der_of(name), "{name}");
    }
}

#[test]
fn wrong_tags_are_refused() {
    refused(
        "extensions list tagged SET",
        &edited("p256.cert.pem", |t| {
            t.at(&EXTENSIONS).at(&[0]).set_tag(0x31);
        }),
    );
    refused(
        "extensions tagged [5]",
        &edited("p256.cert.pem", |t| t.at(&EXTENSIONS).set_tag(0xa5)),
    );
    refused(
        "serial tagged OCTET STRING",
        &edited("p256.cert.pem", |t| t.at(&SERIAL).set_tag(0x04)),
    );
}

#[test]
fn trailing_fields_are_refused() {
    let null = Node::Primitive(0x05, Vec::new());
    for (what, path) in [
        ("after the TBS fields", vec![TBS]),
        ("after the certificate's fields", vec![]),
        ("after the key", SPKI.to_vec()),
        ("after the validity", VALIDITY.to_vec()),
    ] {
        refused(
            what,
            &edited("p256.cert.pem", |t| {
                t.at(&path).children().push(null.clone())
            }),
        );
    }
    let mut der = der_of("p256.cert.pem");
    der.push(0);
    refused("a byte after the certificate", &der);
}

#[test]
fn non_minimal_integers_are_refused() {
    refused(
        "serial with a leading zero byte",
        &edited("p256.cert.pem", |t| {
            if let Node::Primitive(_, content) = t.at(&SERIAL) {
                // Make the first byte small, then pad it.
                content[0] = 0x01;
                content.insert(0, 0);
            }
        }),
    );
}

#[test]
fn a_boolean_true_that_is_not_ff_is_refused() {
    // ca.cert.pem has basicConstraints CA:TRUE: 30 03 01 01 ff (+ maybe pathlen).
    let der = edited("ca.cert.pem", |t| {
        for extension in t.at(&EXTENSIONS).at(&[0]).children() {
            let Node::Constructed(_, fields) = extension else {
                continue;
            };
            if matches!(&fields[0], Node::Primitive(0x06, oid) if oid == &[0x55, 0x1d, 0x13]) {
                let value = fields.last_mut().unwrap();
                if let Node::Primitive(_, bytes) = value {
                    let position = bytes.windows(3).position(|w| w == [1, 1, 0xff]).unwrap();
                    bytes[position + 2] = 0x01;
                }
            }
        }
    });
    refused("basicConstraints cA BOOLEAN 0x01", &der);
    assert!(
        Certificate::from_pem(std::str::from_utf8(&example("ca.cert.pem")).unwrap())
            .unwrap()
            .is_ca()
    );
}

#[test]
fn explicit_defaults_are_refused() {
    // critical FALSE written out in the first extension.
    let der = edited("p256.cert.pem", |t| {
        let first = t.at(&EXTENSIONS).at(&[0, 0]);
        let fields = first.children();
        if fields.len() == 2 {
            fields.insert(1, Node::Primitive(0x01, vec![0x00]));
        } else {
            fields[1] = Node::Primitive(0x01, vec![0x00]);
        }
    });
    refused("critical FALSE encoded", &der);
}

#[test]
fn keys_that_do_not_fit_their_algorithm_are_refused() {
    refused(
        "an empty EC public key",
        &edited("p256.cert.pem", |t| {
            *t.at(&SPKI).at(&[1]) = Node::Primitive(0x03, vec![0x00]);
        }),
    );
    refused(
        "a P-256 point labelled P-384",
        &edited("p256.cert.pem", |t| {
            // secp384r1 = 1.3.132.0.34
            *t.at(&SPKI).at(&[0, 1]) = Node::Primitive(0x06, vec![0x2b, 0x81, 0x04, 0x00, 0x22]);
        }),
    );
}

#[test]
fn impossible_times_are_refused() {
    for (what, node) in [
        (
            "year 0000",
            Node::Primitive(0x18, b"00000101000000Z".to_vec()),
        ),
        ("month 13", Node::Primitive(0x17, b"261301000000Z".to_vec())),
        (
            "a time zone offset",
            Node::Primitive(0x17, b"261129113414+0900".to_vec()),
        ),
        (
            "fractional seconds",
            Node::Primitive(0x18, b"20261129113414.5Z".to_vec()),
        ),
    ] {
        refused(
            what,
            &edited("p256.cert.pem", |t| *t.at(&VALIDITY).at(&[0]) = node),
        );
    }
}

#[test]
fn the_unsigned_algorithm_must_equal_the_signed_one() {
    // ecdsa-with-SHA256 has no parameters; give the outer one a NULL.
    refused(
        "outer algorithm with parameters",
        &edited("p256.cert.pem", |t| {
            t.at(&OUTER_ALGORITHM)
                .children()
                .push(Node::Primitive(0x05, Vec::new()));
        }),
    );
    refused(
        "ECDSA with NULL parameters inside and out",
        &edited("p256.cert.pem", |t| {
            for path in [vec![1], vec![TBS, 2]] {
                t.at(&path)
                    .children()
                    .push(Node::Primitive(0x05, Vec::new()));
            }
        }),
    );
    refused(
        "outer algorithm ecdsa-with-SHA384",
        &edited("p256.cert.pem", |t| {
            if let Node::Primitive(_, oid) = t.at(&OUTER_ALGORITHM).at(&[0]) {
                *oid.last_mut().unwrap() = 0x03;
            }
        }),
    );
}

#[test]
fn a_negative_serial_prints_with_its_sign() {
    let der = edited("p256.cert.pem", |t| {
        *t.at(&SERIAL) = Node::Primitive(0x02, vec![0xff, 0x01]);
    });
    let info = Certificate::from_der(&der).unwrap().info().unwrap();
    assert_eq!(info.serial, "-ff");
    let der = edited("p256.cert.pem", |t| {
        *t.at(&SERIAL) = Node::Primitive(0x02, vec![0x80]);
    });
    assert_eq!(
        Certificate::from_der(&der).unwrap().info().unwrap().serial,
        "-80"
    );
}

#[test]
fn a_der_certificate_holding_a_pem_marker_is_read_as_der() {
    // An OU whose text is a BEGIN line: the bytes contain the marker.
    let der = edited("p256.cert.pem", |t| {
        let subject = t.at(&[TBS, 5]);
        subject.children().push(Node::Constructed(
            0x31,
            vec![Node::Constructed(
                0x30,
                vec![
                    Node::Primitive(0x06, vec![0x55, 0x04, 0x0b]),
                    Node::Primitive(0x0c, b"-----BEGIN CERTIFICATE-----".to_vec()),
                ],
            )],
        ));
    });
    let imported = import(&der, "").unwrap();
    assert_eq!(imported.certificates.len(), 1);
    assert!(
        imported.certificates[0]
            .info()
            .unwrap()
            .subject
            .contains("OU=-----BEGIN")
    );
}

#[test]
fn text_that_only_mentions_the_marker_is_refused() {
    let text = b"notes: paste the -----BEGIN CERTIFICATE----- block here\n";
    assert!(import(text, "").is_err());
}

#[test]
fn generalized_time_before_2050_is_read_as_openssl_reads_it() {
    // RFC 5280 asks for UTCTime until 2049, but openssl and Python
    // `cryptography` read GeneralizedTime there too, and issuers use it.
    let der = edited("p256.cert.pem", |t| {
        *t.at(&VALIDITY).at(&[0]) = Node::Primitive(0x18, b"20261129113414Z".to_vec());
    });
    let info = Certificate::from_der(&der).unwrap().info().unwrap();
    assert_eq!(info.not_before, "2026-11-29T11:34:14Z");
}

#[test]
fn public_pem_blocks_beside_a_key_or_certificate_are_passed_over() {
    let key = String::from_utf8(example("p256.sec1.pem")).unwrap();
    let cert = String::from_utf8(example("p256.cert.pem")).unwrap();
    // What `openssl ecparam -name prime256v1 -genkey` writes before the key.
    let parameters =
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    let imported = import(format!("{parameters}{key}{cert}").as_bytes(), "").unwrap();
    assert_eq!(imported.skipped, ["EC PARAMETERS"]);
    assert!(imported.private_key.is_some());
    assert_eq!(imported.key_matches().map(|r| r.is_ok()), Some(true));
    // Alone, they are not something Marshal can use.
    assert!(matches!(
        import(parameters.as_bytes(), ""),
        Err(Error::WrongPemLabel { .. })
    ));
    // A block Marshal does not know stays an error: it could be secret.
    let unknown = "-----BEGIN SECRET THING-----\nAAAA\n-----END SECRET THING-----\n";
    assert!(import(format!("{unknown}{cert}").as_bytes(), "").is_err());
}

#[test]
fn a_broken_der_certificate_says_what_is_broken() {
    // PKITS's BadSignedCACert: a signature BIT STRING with an unused bit.
    let der = edited("p256.cert.pem", |t| {
        if let Node::Primitive(_, bits) = t.at(&[2]) {
            bits[0] = 1;
        }
    });
    match import(&der, "") {
        Err(Error::NotACertificate(detail)) => {
            assert!(detail.contains("signatureValue"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
}
