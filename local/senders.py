"""The providers' side of notifications on moto, as an operator sets it up in the cloud: the SES
sender identity (SES refuses mail from an unverified one) and the SNS platform applications that
push goes through, one for FCM (HTTP v1) and one for APNs (token-based, sandbox)."""

from __future__ import annotations

from email.utils import parseaddr

from dogwalk.adapters import aws
from dogwalk.config import settings

FCM_APPLICATION = "dogwalk-local-fcm"
APNS_APPLICATION = "dogwalk-local-apns"


def ensure_notification_senders() -> dict[str, str]:
    """The sender verified and both platform applications made; the settings that name the
    applications (`DOGWALK_PUSH_FCM_APPLICATION_ARN`, `DOGWALK_PUSH_APNS_APPLICATION_ARN`)."""
    sender = parseaddr(settings().notifications_from_email)[1]
    ses = aws.client("sesv2")
    known = {item["IdentityName"] for item in ses.list_email_identities().get("EmailIdentities", [])}
    if sender not in known:
        ses.create_email_identity(EmailIdentity=sender)
    sns = aws.client("sns")
    fcm = sns.create_platform_application(
        Name=FCM_APPLICATION,
        Platform="GCM",
        # FCM HTTP v1: the Firebase service account's JSON key (a placeholder here)
        Attributes={"PlatformCredential": '{"type": "service_account", "project_id": "dogwalk-local"}'},
    )["PlatformApplicationArn"]
    apns = sns.create_platform_application(
        Name=APNS_APPLICATION,
        Platform="APNS_SANDBOX",
        # token-based: the .p8 signing key, its key id, the team and the app's bundle id (placeholders)
        Attributes={
            "PlatformCredential": "-----BEGIN PRIVATE KEY-----\nlocal\n-----END PRIVATE KEY-----",
            "PlatformPrincipal": "LOCALKEY01",
            "ApplePlatformTeamID": "LOCALTEAM1",
            "ApplePlatformBundleID": "example.dogwalk.app",
        },
    )["PlatformApplicationArn"]
    return {"DOGWALK_PUSH_FCM_APPLICATION_ARN": str(fcm), "DOGWALK_PUSH_APNS_APPLICATION_ARN": str(apns)}
