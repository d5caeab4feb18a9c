"""What a teacher reads when rclone fails: its words, never what the remote said.

rclone's error messages quote the remote's answer (an HTTP body, an S3 error
document). Shown to the teacher, that would make a release worker a proxy that
fetches a page and hands it back. So the teacher gets a summary made only of
fixed phrases this module recognises, plus the HTTP status; the whole message
goes to the worker's log for the operator.
"""

from __future__ import annotations

import re

# (what rclone or the remote's protocol says, what the teacher reads), in order of priority.
_KNOWN = (
    ("blocked by address policy", "the destination led the upload to an address that is not "
     "public (a redirect, or a URL it returned), and the address policy refused it"),
    ("no such host", "the host does not resolve"),
    ("connection refused", "the connection was refused"),
    ("i/o timeout", "the connection timed out"),
    ("context deadline exceeded", "the destination did not answer in time"),
    ("x509", "the destination's TLS certificate was not accepted"),
    ("certificate", "the destination's TLS certificate was not accepted"),
    ("tls:", "the TLS handshake failed"),
    ("unable to authenticate", "the SSH login was refused (check user, password or key)"),
    ("handshake failed", "the SSH handshake failed"),
    ("InvalidAccessKeyId", "the access key is not known to the server"),
    ("SignatureDoesNotMatch", "the secret key does not match the access key"),
    ("AccessDenied", "access was denied (check the credentials' permissions)"),
    ("NoSuchBucket", "the bucket does not exist"),
    ("permission denied", "permission denied at the destination"),
    ("no space left", "the destination is full"),
    ("directory not found", "the folder does not exist at the destination"),
    ("object not found", "the file is not at the destination"),
    ("sizes differ", "the file arrived with another size (corrupted on transfer)"),
    ("corrupted on transfer", "the file was corrupted on transfer"),
    ("EOF", "the destination closed the connection or answered something that is not "
     "what the protocol expects"),
)  # fmt: skip
# "404 Not Found" (HTTP backends) or "StatusCode: 403" (the AWS SDK's S3 errors).
_STATUS = re.compile(r"\b([1-5][0-9]{2}) [A-Z][A-Za-z]+|StatusCode: ([1-5][0-9]{2})\b")


def summarise(message: str) -> str:
    """A teacher-facing reason made of fixed words (and an HTTP status) only."""
    lowered = message.lower()
    reasons = [reason for needle, reason in _KNOWN if needle.lower() in lowered][:1]
    status = _STATUS.search(message)
    if status is not None:
        reasons.append(f"HTTP {status.group(1) or status.group(2)}")
    if not reasons:
        reasons.append("the destination refused the operation")
    return "; ".join(reasons) + " (the worker's log has rclone's whole message)"
