//! Factory jobs (`/v1/jobs`) and the presigned URLs a job hands out: the
//! file of certificates is `PUT` to one, the results CSV is read from
//! another. Those go to the job's storage (S3), not to the API, so they
//! carry no bearer token, only the headers the API signed.

use marshal_shared::api::{
    CreateJobRequest, CreateJobResponse, Job, JobResultsResponse, UploadInstructions,
};
use serde_json::json;

use super::{ApiClient, Method, is_loopback, unreachable_words};
use crate::outcome::Failure;

/// A job id as the API makes them: 32 lowercase hex digits. Checked before
/// it goes into a URL path, so no id can name another route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobId(String);

impl JobId {
    /// Reads an id as a person may paste it (surrounding blanks, capitals).
    pub(crate) fn parse(text: &str) -> Result<JobId, Failure> {
        let id = text.trim().to_ascii_lowercase();
        if marshal_shared::validate::is_job_id(&id) {
            Ok(JobId(id))
        } else {
            Err(Failure::input(
                "invalid_job_id",
                format!(
                    "{text:?} is not a job id: a job id is 32 hex digits, as \
                     `marshal register --job` prints it"
                ),
            ))
        }
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ApiClient {
    /// `POST /v1/jobs` (201).
    pub(crate) fn create_job(
        &self,
        request: &CreateJobRequest,
    ) -> Result<CreateJobResponse, Failure> {
        self.call(Method::Post, "/v1/jobs", Some(request))
    }

    /// `GET /v1/jobs/{id}`.
    pub(crate) fn job(&self, id: &JobId) -> Result<Job, Failure> {
        self.call(Method::Get, &format!("/v1/jobs/{id}"), None::<&()>)
    }

    /// `POST /v1/jobs/{id}/start` (202): the file is uploaded.
    pub(crate) fn start_job(&self, id: &JobId) -> Result<Job, Failure> {
        self.call(
            Method::Post,
            &format!("/v1/jobs/{id}/start"),
            Some(&json!({})),
        )
    }

    /// `POST /v1/jobs/{id}/cancel`.
    pub(crate) fn cancel_job(&self, id: &JobId) -> Result<Job, Failure> {
        let path = format!("/v1/jobs/{id}/cancel");
        self.call(Method::Post, &path, Some(&json!({})))
    }

    /// `GET /v1/jobs/{id}/results`: where the results CSV is.
    pub(crate) fn job_results(&self, id: &JobId) -> Result<JobResultsResponse, Failure> {
        self.call(Method::Get, &format!("/v1/jobs/{id}/results"), None::<&()>)
    }

    /// `PUT`s a job's file where `upload` says, with exactly its headers.
    pub(crate) fn upload(&self, upload: &UploadInstructions, body: &[u8]) -> Result<(), Failure> {
        let url = presigned_url(&upload.url, "upload")?;
        if !upload.method.eq_ignore_ascii_case("PUT") {
            return Err(Failure::check(
                "unexpected_response",
                format!(
                    "the API asks for the job's file by {}, which this marshal cannot do; \
                     is the API of a compatible version?",
                    upload.method
                ),
            ));
        }
        let mut request = self.agent.put(url);
        for (name, value) in &upload.headers {
            // The client sets Host (from the URL) and Content-Length itself.
            if !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let mut response = request
            .send(body)
            .map_err(|e| storage_unreachable(url, "upload the job's file", &e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Err(storage_refused("upload of the job's file", status, &text))
    }

    /// The bytes at a presigned `GET` URL (a job's results), at most `max`.
    pub(crate) fn download(&self, url: &str, max: u64) -> Result<Vec<u8>, Failure> {
        let url = presigned_url(url, "download")?;
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| storage_unreachable(url, "download the job's results", &e))?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(max)
            .read_to_vec()
            .map_err(|e| storage_unreachable(url, "download the job's results", &e))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(storage_refused(
            "download of the job's results",
            status,
            &String::from_utf8_lossy(&bytes),
        ))
    }
}

/// A presigned URL the API handed out, if it is one this client may use:
/// https, or plain http only to this machine (a local stack), so a file of
/// certificates cannot be swapped on the way.
fn presigned_url<'a>(url: &'a str, what: &str) -> Result<&'a str, Failure> {
    match url.split_once("://") {
        Some(("https", rest)) if !rest.is_empty() => Ok(url),
        Some(("http", rest)) if is_loopback(rest) => Ok(url),
        _ => Err(Failure::check(
            "unexpected_response",
            format!(
                "the API handed out a {what} URL that is neither https:// nor on this \
                 machine; refusing to use it (is the API's [jobs] bucket set up as deployed?)"
            ),
        )),
    }
}

/// The host of a URL, for messages (never its query, which holds a signature).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn storage_unreachable(url: &str, what: &str, error: &ureq::Error) -> Failure {
    let host = host_of(url);
    let (words, _) = unreachable_words(host, error);
    Failure::check(
        "storage_unreachable",
        format!(
            "could not {what} at {host} (the job's storage, where the API sent this \
             client): {words}"
        ),
    )
}

/// S3's refusal in words: its `<Code>` and `<Message>` when it sent them.
fn storage_refused(what: &str, status: u16, body: &str) -> Failure {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(body[start..end].trim().to_owned())
            .filter(|s| !s.is_empty() && s.len() <= 300 && !s.contains(['<', '>', '\n']))
    };
    let detail = match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!(": {code} ({message})"),
        (Some(code), None) => format!(": {code}"),
        _ => String::new(),
    };
    let hint = if body.contains("expired") {
        "; the URL has expired: run the command again"
    } else {
        ""
    };
    Failure::check(
        "storage_refused",
        format!("the job's storage refused the {what}: HTTP {status}{detail}{hint}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_32_hex_digits_and_nothing_else() {
        let id = JobId::parse(" 0123456789ABCDEF0123456789abcdef\n").unwrap();
        assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
        for bad in [
            "",
            "nope",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "../certificates/0123456789abcdef0",
            "0123456789abcdef0123456789abcdeg",
        ] {
            let failure = JobId::parse(bad).unwrap_err();
            assert_eq!((failure.status, &*failure.code), (2, "invalid_job_id"));
            assert!(failure.message.contains("32 hex digits"), "{failure:?}");
        }
    }

    #[test]
    fn presigned_urls_are_https_or_loopback() {
        for good in [
            "https://bucket.s3.amazonaws.com/uploads/x?X-Amz-Signature=1",
            "http://127.0.0.1:5000/marshal-jobs/uploads/x?X-Amz-Signature=1",
        ] {
            assert_eq!(presigned_url(good, "upload").unwrap(), good);
        }
        for bad in [
            "http://bucket.s3.amazonaws.com/uploads/x",
            "ftp://127.0.0.1/x",
            "/uploads/x",
        ] {
            let failure = presigned_url(bad, "upload").unwrap_err();
            assert_eq!(failure.code, "unexpected_response", "{bad}");
        }
        assert_eq!(
            host_of("https://b.s3.amazonaws.com/k?X-Amz-Signature=secret"),
            "b.s3.amazonaws.com"
        );
    }

    #[test]
    fn storage_refusals_keep_s3s_code_and_message() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>\
                    <Message>Request has expired</Message></Error>";
        let failure = storage_refused("upload of the job's file", 403, body);
        assert_eq!(failure.code, "storage_refused");
        assert_eq!(
            failure.message,
            "the job's storage refused the upload of the job's file: HTTP 403: \
             AccessDenied (Request has expired); the URL has expired: run the command again"
        );
        let bare = storage_refused("download of the job's results", 500, "<html>");
        assert!(bare.message.ends_with("HTTP 500"), "{}", bare.message);
    }
}
